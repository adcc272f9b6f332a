// gtest helpers for Status and StatusOr, shaped like abseil's status matchers.
//   COLONY_ASSERT_OK(table->Push(ids, grads));
//   COLONY_ASSERT_OK_AND_ASSIGN(auto table, SparseTable::Create(options));
//   EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, HasSubstr("dim")));
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "colony/base/status.h"

namespace colony::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const StatusOr<T>& s) {
  return s.status();
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const Status& s = ::colony::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

}  // namespace colony::testing

#define COLONY_ASSERT_OK(expr)                                               \
  do {                                                                       \
    const ::colony::Status colony_s_ = ::colony::testing::GetStatus((expr)); \
    ASSERT_TRUE(colony_s_.ok()) << colony_s_.ToString();                     \
  } while (0)
#define COLONY_EXPECT_OK(expr)                           \
  EXPECT_TRUE(::colony::testing::GetStatus((expr)).ok()) \
      << ::colony::testing::GetStatus((expr)).ToString()

#define COLONY_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  COLONY_ASSERT_OK_AND_ASSIGN_IMPL(COLONY_STATUS_CONCAT(colony_or_, __LINE__), lhs, expr)
#define COLONY_ASSERT_OK_AND_ASSIGN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                     \
  ASSERT_TRUE(statusor.ok()) << statusor.status().ToString(); \
  lhs = std::move(statusor).value()

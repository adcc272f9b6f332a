#include "colony/retrieval/vector_file.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "testing/status_matchers.h"

namespace colony::retrieval {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

class VectorFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("colony_vector_file_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::filesystem::path dir_;
};

template <typename T>
std::string Bytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::string Npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 16 != 0) header += ' ';
  header += '\n';
  const uint16_t len = static_cast<uint16_t>(header.size());
  return std::string("\x93NUMPY\x01\x00", 8) + Bytes(len) + header + data;
}

std::string BigEndian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

TEST_F(VectorFileTest, FvecsRoundTrip) {
  VectorSet set{.n = 3, .dim = 2, .data = {1, 2, 3, 4, 5, 6}};
  const std::string path = (dir_ / "a.fvecs").string();
  COLONY_ASSERT_OK(WriteFvecs(path, set));
  COLONY_ASSERT_OK_AND_ASSIGN(VectorSet read, ReadVectors(path, {}));
  EXPECT_EQ(read.n, 3);
  EXPECT_EQ(read.dim, 2);
  EXPECT_EQ(read.data, set.data);
  COLONY_ASSERT_OK_AND_ASSIGN(VectorSet two, ReadVectors(path, {.max_vectors = 2}));
  EXPECT_EQ(two.n, 2);
}

TEST_F(VectorFileTest, ReadsEachFormat) {
  const int32_t d = 2;
  const std::string ivecs = Write("a.ivecs", Bytes(d) + Bytes(int32_t{7}) + Bytes(int32_t{-1}));
  const std::string npy_f4 =
      Write("a.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                         Bytes(1.5f) + Bytes(2.5f)));
  const std::string npy_u1 = Write(
      "b.npy", Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }", "\x03\xff"));
  const std::string csv = Write("a.csv", "1, 2.5\r\n\n-3,4e1\n");
  const std::string idx =
      Write("t10k-images-idx3-ubyte", std::string("\0\0\x08\x03", 4) + BigEndian(2) + BigEndian(1) +
                                          BigEndian(2) + "\x01\x02\x03\x04");
  struct Case {
    std::string path;
    std::vector<float> data;
    int64_t dim;
  };
  for (const Case& c : std::vector<Case>{{ivecs, {7, -1}, 2},
                                         {npy_f4, {1.5f, 2.5f}, 2},
                                         {npy_u1, {3, 255}, 1},
                                         {csv, {1, 2.5f, -3, 40}, 2},
                                         {idx, {1, 2, 3, 4}, 2}}) {
    COLONY_ASSERT_OK_AND_ASSIGN(VectorSet set, ReadVectors(c.path, {}));
    EXPECT_EQ(set.data, c.data) << c.path;
    EXPECT_EQ(set.dim, c.dim) << c.path;
  }
}

TEST_F(VectorFileTest, BadInputsNameTheProblem) {
  const int32_t two = 2, minus = -3, three = 3;
  struct Case {
    std::string name, bytes;
    int64_t expected_dim;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty.fvecs", "", 0, "empty file"},
      {"neg.fvecs", Bytes(minus), 0, "record 0 has dimension -3"},
      {"mixed.fvecs", Bytes(two) + Bytes(1.f) + Bytes(2.f) + Bytes(three) + Bytes(1.f), 0,
       "record 1 has dimension 3, the first has 2"},
      {"short.fvecs", Bytes(two) + Bytes(1.f), 0, "record 0 is truncated"},
      {"dim.fvecs", Bytes(two) + Bytes(1.f) + Bytes(2.f), 64, "dimension 2, expected 64"},
      {"magic.npy", "NOTNUMPYATALL", 0, "bad .npy header: no \\x93NUMPY magic"},
      {"3d.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }", "abcd"), 0,
       "not 2-D"},
      {"dtype.npy", Npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 1), }", "abcd"), 0,
       "dtype '<c8'"},
      {"fortran.npy", Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", "abcd"), 0,
       "fortran_order"},
      {"cut.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1), }", "abcd"), 0,
       "truncated"},
      {"header.csv", "x,y\n1,2\n", 0, "header.csv:1: field 1 'x' is not a number"},
      {"ragged.csv", "1,2\n3\n", 0, "ragged.csv:2: 1 fields, the first line has 2"},
      {"blank.csv", "\n \n", 0, "only blank lines"},
      {"type-idx", std::string("\0\0\x09\x01", 4) + BigEndian(1) + "x", 0, "value type 0x09"},
      {"magic-idx", std::string("\x01\0\x08\x01", 4) + BigEndian(1) + "x", 0, "two zero bytes"},
      {"cut-idx", std::string("\0\0\x08\x02", 4) + BigEndian(3) + BigEndian(2) + "abc", 0,
       "declares 3 x 2 values, the file holds 3"},
      {"noformat.bin", "x", 0, "cannot tell the format"},
      // Shapes whose products overflow 64 bits (they once wrapped to a size the file "held").
      {"wrap.npy",
       Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
           "abcd"),
       0, "shape (4611686018427387904, 4) is too large for any file"},
      {"wrap-idx",
       std::string("\0\0\x08\x04", 4) + BigEndian(1) + BigEndian(0xffffffffu) +
           BigEndian(0xffffffffu) + BigEndian(0xffffffffu) + "x",
       0, "the dimensions multiply past 2^64"},
      {"big-idx",
       std::string("\0\0\x0d\x03", 4) + BigEndian(0xffffffffu) + BigEndian(0xffffffffu) +
           BigEndian(0xffffffffu) + "x",
       0, "more values than any file holds"},
  };
  for (const Case& c : cases) {
    const std::string path = Write(c.name, c.bytes);
    EXPECT_THAT(ReadVectors(path, {.expected_dim = c.expected_dim}),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.name;
  }
}

TEST_F(VectorFileTest, MissingFileIsNotFoundAndUnknownFormatIsInvalid) {
  EXPECT_THAT(ReadVectors((dir_ / "none.fvecs").string(), {}),
              StatusIs(StatusCode::kNotFound, HasSubstr("none.fvecs")));
  EXPECT_THAT(ReadVectors(Write("a.fvecs", "x"), {.format = "parquet"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'parquet' is unknown")));
}

}  // namespace
}  // namespace colony::retrieval

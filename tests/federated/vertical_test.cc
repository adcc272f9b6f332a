// Both parties in this process, each with its own gRPC endpoint on 127.0.0.1; every message
// they exchange passes through gRPC interceptors into the test.
#include "colony/federated/vertical.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "colony/federated.grpc.pb.h"
#include "federated/test_util.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

struct Session {
  PartyAResult a;
  PartyModel b;
  std::vector<FlMessage> messages;
};

StatusOr<Session> RunBoth(const VerticalConfig& config) {
  Session session;
  std::mutex mu;
  auto observer = [&](const FlMessage& m) {
    std::lock_guard<std::mutex> lock(mu);
    session.messages.push_back(m);
  };
  PartyBOptions b_options;
  b_options.out = WriteTemp("party_b.json", "");
  b_options.observer = observer;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<VerticalPartyB> b,
                          VerticalPartyB::Start(config, b_options));
  PartyAOptions a_options;
  a_options.peer = "127.0.0.1:" + std::to_string(b->port());
  a_options.observer = observer;
  a_options.quiet = true;
  COLONY_ASSIGN_OR_RETURN(session.a, RunVerticalPartyA(config, a_options));
  COLONY_RETURN_IF_ERROR(b->Wait());
  COLONY_ASSIGN_OR_RETURN(session.b, ReadPartyModel(b_options.out));
  return session;
}

VerticalConfig Diabetes(std::vector<int> a_columns, std::vector<int> b_columns) {
  VerticalConfig c;
  c.party_a.format = c.party_b.format = "sklearn_diabetes";
  c.party_a.with_label = true;
  c.party_a.columns = std::move(a_columns);
  c.party_b.columns = std::move(b_columns);
  c.train.iterations = 3000;
  c.train.tolerance = 1e-12;
  return c;
}

VerticalConfig BreastCancer() {
  VerticalConfig c;
  c.party_a.format = c.party_b.format = "sklearn_breast_cancer";
  c.party_a.with_label = true;
  for (int j = 0; j < 30; ++j) (j < 10 ? c.party_a : c.party_b).columns.push_back(j);
  c.train.model = "logistic";
  c.train.iterations = 400;
  c.train.l2 = 0.01;
  c.train.test_fraction = 0.3;
  return c;
}

// Least squares by Householder QR of [1, standardized X] (columns in the given order), written
// here independently of the library's normal equations.
std::vector<double> LeastSquaresQr(std::vector<std::vector<double>> x, std::vector<double> y) {
  const size_t m = y.size(), p = x[0].size();
  for (size_t k = 0; k < p; ++k) {
    double norm = 0;
    for (size_t i = k; i < m; ++i) norm += x[i][k] * x[i][k];
    norm = std::sqrt(norm);
    const double alpha = x[k][k] > 0 ? -norm : norm;
    std::vector<double> v(m, 0.0);
    for (size_t i = k; i < m; ++i) v[i] = x[i][k];
    v[k] -= alpha;
    double vv = 0;
    for (size_t i = k; i < m; ++i) vv += v[i] * v[i];
    auto reflect = [&](auto get) {
      double dot = 0;
      for (size_t i = k; i < m; ++i) dot += v[i] * get(i);
      for (size_t i = k; i < m; ++i) get(i) -= 2 * dot / vv * v[i];
    };
    for (size_t j = k; j < p; ++j) reflect([&](size_t i) -> double& { return x[i][j]; });
    reflect([&](size_t i) -> double& { return y[i]; });
  }
  std::vector<double> theta(p);
  for (size_t k = p; k-- > 0;) {
    double s = y[k];
    for (size_t j = k + 1; j < p; ++j) s -= x[k][j] * theta[j];
    theta[k] = s / x[k][k];
  }
  return theta;
}

// [1, standardized columns of `a`, standardized columns of `b`] for rows aligned by id.
std::vector<std::vector<double>> Joined(const PartyTable& a, const PartyTable& b,
                                        std::vector<double>* y) {
  std::map<uint64_t, size_t> b_row;
  for (size_t i = 0; i < b.rows(); ++i) b_row[b.ids[i]] = i;
  std::vector<std::vector<double>> rows;
  std::map<uint64_t, size_t> a_row;
  for (size_t i = 0; i < a.rows(); ++i) a_row[a.ids[i]] = i;
  for (const auto& [id, i] : a_row) {
    if (!b_row.count(id)) continue;
    std::vector<double> r = {1.0};
    for (size_t j = 0; j < a.cols(); ++j) r.push_back(a.features[i * a.cols() + j]);
    for (size_t j = 0; j < b.cols(); ++j) r.push_back(b.features[b_row[id] * b.cols() + j]);
    rows.push_back(r);
    y->push_back(a.labels[i]);
  }
  for (size_t j = 1; j < rows[0].size(); ++j) {
    double mean = 0, var = 0;
    for (const auto& r : rows) mean += r[j] / rows.size();
    for (const auto& r : rows) var += (r[j] - mean) * (r[j] - mean) / rows.size();
    for (auto& r : rows) r[j] = (r[j] - mean) / std::sqrt(var);
  }
  return rows;
}

double MaxDiffToQr(const VerticalConfig& config, const Session& s) {
  std::vector<double> y;
  const auto x =
      Joined(LoadPartyTable(config.party_a).value(), LoadPartyTable(config.party_b).value(), &y);
  const std::vector<double> ols = LeastSquaresQr(x, y);
  std::vector<double> federated = {s.a.model.intercept};
  federated.insert(federated.end(), s.a.model.coefficients.begin(), s.a.model.coefficients.end());
  federated.insert(federated.end(), s.b.coefficients.begin(), s.b.coefficients.end());
  EXPECT_EQ(federated.size(), ols.size());
  double diff = 0;
  for (size_t j = 0; j < ols.size() && j < federated.size(); ++j) {
    diff = std::max(diff, std::abs(federated[j] - ols[j]));
  }
  return diff;
}

TEST(VerticalTest, LinearEqualsLeastSquares) {
  // Serum columns with B (weakly tied to A's): converges in a few dozen iterations.
  const VerticalConfig split_serum = Diabetes({0, 1, 2, 3}, {4, 5, 6, 7, 8, 9});
  COLONY_ASSERT_OK_AND_ASSIGN(Session s, RunBoth(split_serum));
  EXPECT_TRUE(s.a.converged);
  EXPECT_LT(MaxDiffToQr(split_serum, s), 1e-3);
  EXPECT_EQ(s.a.train_samples, 442);
  // s1 with A and s2 (correlation 0.9) with B: slower, same answer.
  const VerticalConfig split_s1_s2 = Diabetes({0, 1, 2, 3, 4}, {5, 6, 7, 8, 9});
  COLONY_ASSERT_OK_AND_ASSIGN(Session t, RunBoth(split_s1_s2));
  EXPECT_GT(t.a.iterations, s.a.iterations);
  EXPECT_LT(MaxDiffToQr(split_s1_s2, t), 1e-3);
  // The library's own comparison (normal equations) agrees.
  COLONY_ASSERT_OK_AND_ASSIGN(VerticalSummary summary, CompareWithCentral(split_s1_s2, t.a, t.b));
  EXPECT_LT(summary.max_abs_coef_diff, 1e-3);
  const nlohmann::json json = summary.ToJson();
  EXPECT_EQ(json.at("max_abs_coef_diff_vs_ols"), summary.max_abs_coef_diff);
  EXPECT_EQ(json.at("iterations"), t.a.iterations);
  EXPECT_FALSE(json.contains("auc"));  // A linear model reports rmse.
}

TEST(VerticalTest, LinearStopsEarlyAtTheIterationLimit) {
  VerticalConfig c = Diabetes({0, 1, 2, 3, 4}, {5, 6, 7, 8, 9});
  c.train.iterations = 3;
  COLONY_ASSERT_OK_AND_ASSIGN(Session s, RunBoth(c));
  EXPECT_EQ(s.a.iterations, 3);
  EXPECT_FALSE(s.a.converged);
  EXPECT_GT(MaxDiffToQr(c, s), 1e-3);  // Three steps are not enough on this split.
}

TEST(VerticalTest, LogisticAucMatchesCentral) {
  const VerticalConfig c = BreastCancer();
  COLONY_ASSERT_OK_AND_ASSIGN(Session s, RunBoth(c));
  COLONY_ASSERT_OK_AND_ASSIGN(VerticalSummary summary, CompareWithCentral(c, s.a, s.b));
  EXPECT_GT(summary.central_auc, 0.95);
  EXPECT_NEAR(s.a.auc, summary.central_auc, 0.01);
  EXPECT_LT(summary.max_abs_coef_diff, 0.05);
  EXPECT_GT(s.a.test_samples, 100);
  EXPECT_EQ(summary.ToJson().at("central_auc"), summary.central_auc);
}

TEST(VerticalTest, PaillierGivesThePlaintextModel) {
  VerticalConfig c = Diabetes({0, 1, 2, 3}, {4, 5, 6, 7, 8, 9});
  c.train.iterations = 6;
  c.train.tolerance = 0;
  COLONY_ASSERT_OK_AND_ASSIGN(Session plain, RunBoth(c));
  c.paillier.enabled = true;
  c.paillier.key_bits = 512;
  c.paillier.allow_insecure_key_bits_for_tests = true;
  COLONY_ASSERT_OK_AND_ASSIGN(Session encrypted, RunBoth(c));
  ASSERT_EQ(plain.b.coefficients.size(), encrypted.b.coefficients.size());
  for (size_t j = 0; j < plain.b.coefficients.size(); ++j) {
    EXPECT_NEAR(plain.b.coefficients[j], encrypted.b.coefficients[j], 1e-4);
  }
  EXPECT_NEAR(plain.a.model.intercept, encrypted.a.model.intercept, 1e-4);
  // B never sees a residual in the clear: every Step request carries only ciphertexts.
  int steps = 0;
  for (const FlMessage& m : encrypted.messages) {
    if (m.sender != "a" || m.method.find("/Step") == std::string::npos) continue;
    rpc::StepRequest request;
    ASSERT_TRUE(request.ParseFromString(m.bytes));
    EXPECT_EQ(request.residual_size(), 0);
    EXPECT_EQ(request.enc_residual_size(), 442);
    ++steps;
  }
  EXPECT_EQ(steps, 6);
}

// ---- The message inspection: no feature row (raw or standardized) leaves its party. ----

struct Holdings {
  std::vector<std::vector<double>> rows;     // Raw and standardized rows of the party.
  std::vector<std::vector<double>> columns;  // Its raw and standardized columns (and labels).
};

Holdings Hold(const PartyTable& t) {
  Holdings h;
  const ColumnScaling s = FitScaling(t.features, t.cols());
  std::vector<double> scaled = t.features;
  ApplyScaling(s, scaled);
  const std::vector<double>* both[] = {&t.features, &scaled};
  for (const std::vector<double>* m : both) {
    for (size_t i = 0; i < t.rows(); ++i) {
      h.rows.emplace_back(m->begin() + i * t.cols(), m->begin() + (i + 1) * t.cols());
    }
    for (size_t j = 0; j < t.cols(); ++j) {
      std::vector<double> column;
      for (size_t i = 0; i < t.rows(); ++i) column.push_back((*m)[i * t.cols() + j]);
      h.columns.push_back(column);
    }
  }
  if (!t.labels.empty()) h.columns.push_back(t.labels);
  return h;
}

std::unique_ptr<google::protobuf::Message> Parse(const FlMessage& m) {
  const std::string method = m.method.substr(m.method.rfind('/') + 1);
  std::unique_ptr<google::protobuf::Message> out;
  const bool a = m.sender == "a";
  if (method == "Ids")
    out.reset(a ? (google::protobuf::Message*)new rpc::IdsRequest : new rpc::IdsResponse);
  if (method == "Setup")
    out.reset(a ? (google::protobuf::Message*)new rpc::SetupRequest : new rpc::SetupResponse);
  if (method == "Step")
    out.reset(a ? (google::protobuf::Message*)new rpc::StepRequest : new rpc::StepResponse);
  if (method == "Unmask")
    out.reset(a ? (google::protobuf::Message*)new rpc::UnmaskRequest : new rpc::StepResponse);
  if (method == "Predict")
    out.reset(a ? (google::protobuf::Message*)new rpc::PredictRequest : new rpc::PredictResponse);
  if (method == "Finish")
    out.reset(a ? (google::protobuf::Message*)new rpc::FinishRequest : new rpc::FinishResponse);
  if (out && !out->ParseFromString(m.bytes)) out.reset();
  return out;
}

bool Near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a)); }

// Describes the first feature row or column of `h` found in a numeric field of `m`, or "".
std::string FindLeak(const FlMessage& m, const Holdings& h) {
  std::unique_ptr<google::protobuf::Message> message = Parse(m);
  if (!message) return "unparseable message " + m.method;
  const google::protobuf::Reflection* reflection = message->GetReflection();
  if (!reflection->GetUnknownFields(*message).empty()) return "unknown fields in " + m.method;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const auto* field : fields) {
    std::vector<double> values;
    using Type = google::protobuf::FieldDescriptor::CppType;
    if (field->cpp_type() == Type::CPPTYPE_DOUBLE) {
      if (field->is_repeated()) {
        const auto r = reflection->GetRepeatedFieldRef<double>(*message, field);
        values.assign(r.begin(), r.end());
      } else {
        values.push_back(reflection->GetDouble(*message, field));
      }
    } else if (field->cpp_type() == Type::CPPTYPE_FLOAT) {
      return "float field " + field->name();  // The protocol has none: a new field needs review.
    }
    for (const auto& row : h.rows) {
      for (size_t start = 0; start + row.size() <= values.size(); ++start) {
        size_t k = 0;
        while (k < row.size() && Near(values[start + k], row[k])) ++k;
        if (k == row.size()) return m.method + "." + field->name() + " holds a feature row";
      }
    }
    for (const auto& column : h.columns) {
      if (values.size() != column.size()) continue;
      size_t k = 0;
      while (k < column.size() && Near(values[k], column[k])) ++k;
      if (k == column.size()) return m.method + "." + field->name() + " holds a whole column";
    }
  }
  return "";
}

void ExpectNoLeaks(const VerticalConfig& c, const Session& s) {
  const Holdings a = Hold(LoadPartyTable(c.party_a).value());
  const Holdings b = Hold(LoadPartyTable(c.party_b).value());
  std::map<std::string, int> counts;
  for (const FlMessage& m : s.messages) {
    ++counts[m.sender + m.method.substr(m.method.rfind('/'))];
    EXPECT_EQ(FindLeak(m, m.sender == "a" ? a : b), "") << "message from party " << m.sender;
  }
  // Every request had its response, and every kind of call was seen.
  for (const char* call : {"/Ids", "/Setup", "/Step", "/Finish"}) {
    EXPECT_GT(counts[std::string("a") + call], 0) << call;
    EXPECT_EQ(counts[std::string("a") + call], counts[std::string("b") + call]) << call;
  }
  EXPECT_EQ(counts["a/Step"], s.a.iterations);
}

TEST(VerticalTest, NoMessageCarriesAFeatureRow) {
  const VerticalConfig linear = Diabetes({0, 1, 2, 3}, {4, 5, 6, 7, 8, 9});
  COLONY_ASSERT_OK_AND_ASSIGN(Session s, RunBoth(linear));
  ExpectNoLeaks(linear, s);
  VerticalConfig logistic = BreastCancer();
  logistic.train.iterations = 50;
  COLONY_ASSERT_OK_AND_ASSIGN(Session t, RunBoth(logistic));
  ExpectNoLeaks(logistic, t);
  EXPECT_EQ(std::count_if(t.messages.begin(), t.messages.end(),
                          [](const FlMessage& m) { return m.method.ends_with("/Predict"); }),
            2);
  VerticalConfig encrypted = linear;
  encrypted.paillier.enabled = true;
  encrypted.paillier.key_bits = 512;
  encrypted.paillier.allow_insecure_key_bits_for_tests = true;
  encrypted.train.iterations = 3;
  COLONY_ASSERT_OK_AND_ASSIGN(Session u, RunBoth(encrypted));
  ExpectNoLeaks(encrypted, u);
}

TEST(VerticalTest, LeakDetectorFindsAPlantedRow) {
  // The check above can fail: a Step request that carries one of A's rows is caught.
  const VerticalConfig c = Diabetes({0, 1, 2, 3}, {4, 5, 6, 7, 8, 9});
  const PartyTable table = LoadPartyTable(c.party_a).value();
  const Holdings a = Hold(table);
  rpc::StepRequest request;
  for (double r : {0.5, -1.25}) request.add_residual(r);
  for (size_t j = 0; j < table.cols(); ++j)
    request.add_residual(table.features[17 * table.cols() + j]);
  FlMessage planted{"a", "/colony.fl.rpc.VerticalParty/Step", request.SerializeAsString()};
  EXPECT_THAT(FindLeak(planted, a), HasSubstr("holds a feature row"));
  rpc::StepResponse column;
  for (double y : table.labels) column.add_partial(y);
  FlMessage labels{"b", "/colony.fl.rpc.VerticalParty/Step", column.SerializeAsString()};
  EXPECT_THAT(FindLeak(labels, a), HasSubstr("holds a whole column"));
}

// ---- Alignment by id, and errors. ----

TEST(VerticalTest, AlignsPartiesByIdFromTheirOwnFiles) {
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  std::string a_csv = "id,x1,label\n", b_csv = "id,x2,x3\n";
  std::vector<int> a_ids, b_ids;
  for (int id = 0; id < 300; ++id) {
    if (id % 7 != 0) a_ids.push_back(id);  // A lacks some ids, B others.
    if (id % 5 != 0) b_ids.push_back(id);
  }
  std::shuffle(a_ids.begin(), a_ids.end(), rng);
  std::map<int, std::array<double, 3>> x;
  for (int id = 0; id < 300; ++id) x[id] = {normal(rng), normal(rng), normal(rng)};
  for (int id : a_ids) {
    const double y = 1 + 2 * x[id][0] - x[id][1] + 0.5 * x[id][2] + 0.1 * normal(rng);
    a_csv += std::to_string(id) + "," + std::to_string(x[id][0]) + "," + std::to_string(y) + "\n";
  }
  for (int id : b_ids) {
    b_csv +=
        std::to_string(id) + "," + std::to_string(x[id][1]) + "," + std::to_string(x[id][2]) + "\n";
  }
  VerticalConfig c;
  c.party_a.format = c.party_b.format = "csv";
  c.party_a.file = WriteTemp("align_a.csv", a_csv);
  c.party_b.file = WriteTemp("align_b.csv", b_csv);
  c.party_a.with_label = true;
  c.train.tolerance = 1e-12;
  COLONY_ASSERT_OK_AND_ASSIGN(Session s, RunBoth(c));
  int common = 0;
  for (int id = 0; id < 300; ++id) common += (id % 7 != 0 && id % 5 != 0);
  EXPECT_EQ(s.a.train_samples, common);
  EXPECT_LT(MaxDiffToQr(c, s), 1e-3);
  EXPECT_NEAR(s.a.model.coefficients[0], 2, 0.2);  // Standardized x1 has std about 1.
}

TEST(VerticalTest, ErrorsNameTheProblem) {
  VerticalConfig c = Diabetes({0, 1}, {2, 3});
  c.train.rpc_timeout_s = 5;
  PartyAOptions nowhere;
  nowhere.peer = "127.0.0.1:1";
  nowhere.quiet = true;
  EXPECT_THAT(RunVerticalPartyA(c, nowhere),
              StatusIs(StatusCode::kUnavailable, HasSubstr("party b at 127.0.0.1:1")));

  VerticalConfig logistic_on_regression = c;
  logistic_on_regression.train.model = "logistic";
  EXPECT_THAT(RunBoth(logistic_on_regression),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("logistic needs labels 0 or 1")));

  VerticalConfig disjoint;
  disjoint.party_a.format = disjoint.party_b.format = "csv";
  disjoint.party_a.with_label = true;
  disjoint.party_a.file = WriteTemp("disjoint_a.csv", "id,x,label\n1,1,2\n2,3,4\n");
  disjoint.party_b.file = WriteTemp("disjoint_b.csv", "id,z\n3,1\n4,2\n");
  EXPECT_THAT(RunBoth(disjoint),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("share no sample id")));

  VerticalConfig collinear = disjoint;
  collinear.party_b.file = WriteTemp("collinear_b.csv", "id,z,w\n1,1,2\n2,2,4\n");
  EXPECT_THAT(RunBoth(collinear),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("party b's features")));
}

TEST(VerticalTest, PartyBRejectsBadCalls) {
  const VerticalConfig c = Diabetes({0, 1}, {2, 3});
  COLONY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<VerticalPartyB> b, VerticalPartyB::Start(c, {}));
  auto stub = rpc::VerticalParty::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(b->port()), grpc::InsecureChannelCredentials()));
  auto call_step = [&](const rpc::StepRequest& request) {
    grpc::ClientContext context;
    rpc::StepResponse response;
    return stub->Step(&context, request, &response);
  };
  grpc::Status early = call_step(rpc::StepRequest());
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(early.error_message(), HasSubstr("Step before Setup"));

  rpc::SetupRequest setup;
  setup.set_model("linear");
  setup.set_learning_rate(1);
  for (uint64_t id : {1, 2, 3, 4, 5}) setup.add_train_ids(id);
  {
    grpc::ClientContext context;
    rpc::SetupResponse response;
    ASSERT_TRUE(stub->Setup(&context, setup, &response).ok());
    EXPECT_EQ(response.partial_size(), 5);
  }
  rpc::StepRequest short_step;
  short_step.add_residual(1.0);
  grpc::Status wrong = call_step(short_step);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(wrong.error_message(), HasSubstr("1 residuals for 5 training ids"));

  setup.add_train_ids(100000);
  grpc::ClientContext context;
  rpc::SetupResponse response;
  grpc::Status unknown = stub->Setup(&context, setup, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(unknown.error_message(), HasSubstr("100000"));
  grpc::ClientContext unmask_context;
  rpc::StepResponse unmask_response;
  grpc::Status unmask = stub->Unmask(&unmask_context, rpc::UnmaskRequest(), &unmask_response);
  EXPECT_EQ(unmask.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(VerticalTest, PartyBRefusesAWeakPaillierKey) {
  // A may allow itself a 512-bit key; B, whose config does not, refuses it at Setup.
  VerticalConfig a = Diabetes({0, 1}, {2, 3});
  a.train.iterations = 2;
  a.paillier.enabled = true;
  a.paillier.key_bits = 512;
  a.paillier.allow_insecure_key_bits_for_tests = true;
  VerticalConfig b = a;
  b.paillier.allow_insecure_key_bits_for_tests = false;
  COLONY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<VerticalPartyB> party_b,
                              VerticalPartyB::Start(b, {}));
  PartyAOptions a_options;
  a_options.peer = "127.0.0.1:" + std::to_string(party_b->port());
  a_options.quiet = true;
  EXPECT_THAT(RunVerticalPartyA(a, a_options),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("n has 512 bits")));
  party_b->Shutdown();
}

TEST(VerticalTest, PartyBGivesUpWhenPartyAIsSilent) {
  VerticalConfig c = Diabetes({0, 1}, {2, 3});
  c.party_b_idle_timeout_s = 0.2;
  COLONY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<VerticalPartyB> b, VerticalPartyB::Start(c, {}));
  EXPECT_THAT(b->Wait(), StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("idle_timeout_s")));
  std::atomic<bool> stop{true};
  EXPECT_THAT(b->Wait(&stop), StatusIs(StatusCode::kCancelled, HasSubstr("stopped")));
}

}  // namespace
}  // namespace colony::fl

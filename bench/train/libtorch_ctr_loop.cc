// The baseline for `colony train`: the same DNN CTR model as a plain LibTorch C++ loop.
// Data are read with colony's Criteo reader and tensorized before the clock starts, ids are
// mapped to rows of one torch::nn::Embedding (sparse gradients, Adagrad), the MLP uses Adam:
// the same model, optimizers and batch as examples/ctr/config.yaml.
//   build/bench/train/colony_libtorch_ctr_bench --data data/ctr [--threads 2]
//       [--summary-json out.json]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "colony/base/json_util.h"
#include "colony/base/metrics.h"
#include "colony/data/reader.h"

namespace {

struct Batches {
  std::vector<torch::Tensor> dense, ids, labels;
  int64_t samples = 0;
};

// Reads `file` into tensors; ids become rows of `vocab` (grown only when `grow`; an unseen id
// maps to row 0).
Batches Load(const std::string& file, int batch_size, std::unordered_map<uint64_t, int64_t>& vocab,
             bool grow) {
  colony::data::ReaderOptions options;
  options.files = {file};
  options.batch_size = batch_size;
  auto reader = std::move(colony::data::Reader::Create(options)).value();
  if (!reader->Reset(0).ok()) std::abort();
  Batches out;
  colony::data::Batch b;
  while (reader->Next(&b).ok()) {
    std::vector<int64_t> rows(b.sparse_ids.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      auto it = vocab.find(b.sparse_ids[i]);
      if (it == vocab.end() && grow) it = vocab.emplace(b.sparse_ids[i], vocab.size() + 1).first;
      rows[i] = it == vocab.end() ? 0 : it->second;
    }
    out.dense.push_back(torch::from_blob(b.dense.data(), {b.size, b.num_dense}).clone());
    out.ids.push_back(torch::from_blob(rows.data(), {b.size, b.num_slots}, torch::kLong).clone());
    out.labels.push_back(torch::from_blob(b.labels.data(), {b.size, 1}).clone());
    out.samples += b.size;
  }
  return out;
}

struct CtrDnn : torch::nn::Module {
  CtrDnn(int64_t vocabulary, int64_t dim)
      : embedding(register_module(
            "embedding",
            torch::nn::Embedding(torch::nn::EmbeddingOptions(vocabulary, dim).sparse(true)))),
        fc0(register_module("fc0", torch::nn::Linear(26 * dim + 13, 256))),
        fc1(register_module("fc1", torch::nn::Linear(256, 128))),
        out(register_module("out", torch::nn::Linear(128, 1))) {
    torch::NoGradGuard no_grad;
    embedding->weight.uniform_(-0.01, 0.01);
    for (auto* fc : {&fc0, &fc1, &out}) {
      torch::nn::init::xavier_uniform_((*fc)->weight);
      torch::nn::init::zeros_((*fc)->bias);
    }
  }
  torch::Tensor forward(const torch::Tensor& dense, const torch::Tensor& ids) {
    auto x = torch::cat({embedding(ids).flatten(1), dense}, 1);
    x = torch::relu(fc0(x));
    x = torch::relu(fc1(x));
    return out(x);
  }
  torch::nn::Embedding embedding;
  torch::nn::Linear fc0, fc1, out;
};

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data = Flag(argc, argv, "--data", "data/ctr");
  const int threads = std::stoi(Flag(argc, argv, "--threads", "0"));
  const int batch_size = std::stoi(Flag(argc, argv, "--batch-size", "512"));
  const std::string summary = Flag(argc, argv, "--summary-json", "");
  if (threads > 0) torch::set_num_threads(threads);
  torch::manual_seed(1);

  std::unordered_map<uint64_t, int64_t> vocab;
  Batches train = Load(data + "/train.txt", batch_size, vocab, true);
  Batches test = Load(data + "/test.txt", batch_size, vocab, false);
  CtrDnn model(static_cast<int64_t>(vocab.size()) + 1, 16);
  torch::optim::Adagrad sparse_opt({model.embedding->weight},
                                   torch::optim::AdagradOptions(0.05).eps(1e-8));
  std::vector<torch::Tensor> dense_params;
  for (auto& p : model.named_parameters()) {
    if (p.key() != "embedding.weight") dense_params.push_back(p.value());
  }
  torch::optim::Adam dense_opt(dense_params, torch::optim::AdamOptions(1e-3));

  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < train.dense.size(); ++i) {
    sparse_opt.zero_grad();
    dense_opt.zero_grad();
    auto loss = torch::binary_cross_entropy_with_logits(model.forward(train.dense[i], train.ids[i]),
                                                        train.labels[i]);
    loss.backward();
    sparse_opt.step();
    dense_opt.step();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  torch::NoGradGuard no_grad;
  std::vector<float> probs, labels;
  for (size_t i = 0; i < test.dense.size(); ++i) {
    auto p = torch::sigmoid(model.forward(test.dense[i], test.ids[i])).contiguous();
    probs.insert(probs.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    auto l = test.labels[i].contiguous();
    labels.insert(labels.end(), l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
  }
  const double rate = train.samples / seconds;
  const double auc = colony::Auc(probs, labels);
  std::printf("libtorch loop: %lld samples in %.2fs (%.0f samples/s), %d threads | test auc %.4f\n",
              static_cast<long long>(train.samples), seconds, rate, torch::get_num_threads(), auc);
  if (!summary.empty()) {
    nlohmann::json json = {{"samples", train.samples}, {"seconds", seconds}};
    colony::SetMetric(json, "samples_per_sec", rate);
    colony::SetMetric(json, "test_auc", auc);
    const colony::Status written = colony::WriteJsonFile(summary, json);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.ToString().c_str());
      return 1;
    }
  }
  return 0;
}

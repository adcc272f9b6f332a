#include "colony/pipeline/mlp_batch.h"

#include <ATen/CPUGeneratorImpl.h>

namespace colony::pipeline {

std::map<std::string, at::Tensor> MakeMlpBatch(const models::MlpModelOptions& o, int64_t rows,
                                               uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor x = at::randn({rows, o.input_dim}, gen, at::kFloat);
  at::Tensor teacher =
      at::randn({o.input_dim, 1}, at::detail::createCPUGenerator(12345), at::kFloat);
  at::Tensor p = at::sigmoid(at::matmul(x, teacher));
  at::Tensor label = at::bernoulli(p, gen);
  return {{"x", x}, {"label", label}};
}

}  // namespace colony::pipeline

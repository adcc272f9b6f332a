// Fashion-MNIST idx files, the split over children and the aggregation rules.
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "colony/federated/horizontal.h"

namespace colony::fl {
namespace {

// Reads at most `max_bytes` decompressed bytes of `path`.
StatusOr<std::string> ReadGzip(const std::string& path, size_t max_bytes) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return NotFoundError(path +
                         ": cannot open (install Debian's dataset-fashion-mnist or set "
                         "horizontal.data.dir)");
  }
  std::string bytes;
  char buffer[1 << 16];
  int got = 0;
  while (bytes.size() < max_bytes &&
         (got = gzread(file, buffer,
                       static_cast<unsigned>(std::min(sizeof(buffer), max_bytes - bytes.size())))) >
             0) {
    bytes.append(buffer, got);
  }
  const bool failed = got < 0;
  gzclose(file);
  if (failed) return InvalidArgumentError(path + ": not a readable gzip file");
  return bytes;
}

uint32_t BigEndian(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// Checks an idx header (magic 0x0000080D: unsigned bytes, D dimensions) and returns the sizes.
// `bytes` may stop after the first `limit` items (0: all).
StatusOr<std::vector<uint32_t>> IdxDims(const std::string& path, const std::string& bytes,
                                        int want_dims, int limit) {
  if (bytes.size() < 4 + 4 * static_cast<size_t>(want_dims) ||
      BigEndian(bytes, 0) != 0x800u + static_cast<uint32_t>(want_dims)) {
    return InvalidArgumentError(path + ": bad idx header (want unsigned bytes, " +
                                std::to_string(want_dims) + " dimensions)");
  }
  std::vector<uint32_t> dims;
  size_t total = 1;
  for (int d = 0; d < want_dims; ++d) {
    dims.push_back(BigEndian(bytes, 4 + 4 * d));
    total *= d == 0 && limit > 0 ? std::min<uint32_t>(dims.back(), limit) : dims.back();
  }
  if (bytes.size() != 4 + 4 * static_cast<size_t>(want_dims) + total) {
    return InvalidArgumentError(path + ": idx holds " + std::to_string(bytes.size()) +
                                " bytes, its header promises " + std::to_string(total) + " values");
  }
  return dims;
}

}  // namespace

StatusOr<ImageSet> LoadFashionMnist(const std::string& dir, bool train, int limit) {
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  const std::string image_path = prefix + "-images-idx3-ubyte.gz";
  const std::string label_path = prefix + "-labels-idx1-ubyte.gz";
  const size_t most = static_cast<size_t>(-1);
  COLONY_ASSIGN_OR_RETURN(std::string images,
                          ReadGzip(image_path, limit > 0 ? 16 + size_t{784} * limit : most));
  COLONY_ASSIGN_OR_RETURN(std::string labels,
                          ReadGzip(label_path, limit > 0 ? 8 + static_cast<size_t>(limit) : most));
  COLONY_ASSIGN_OR_RETURN(std::vector<uint32_t> idims, IdxDims(image_path, images, 3, limit));
  COLONY_ASSIGN_OR_RETURN(std::vector<uint32_t> ldims, IdxDims(label_path, labels, 1, limit));
  if (idims[1] * idims[2] != 784) {
    return InvalidArgumentError(image_path + ": images are " + std::to_string(idims[1]) + "x" +
                                std::to_string(idims[2]) + ", Fashion-MNIST's are 28x28");
  }
  if (idims[0] != ldims[0]) {
    return InvalidArgumentError(image_path + " holds " + std::to_string(idims[0]) + " images, " +
                                label_path + " " + std::to_string(ldims[0]) + " labels");
  }
  const int n = limit > 0 ? std::min<int>(limit, idims[0]) : static_cast<int>(idims[0]);
  ImageSet set;
  set.dim = static_cast<int>(idims[1] * idims[2]);
  set.pixels.resize(static_cast<size_t>(n) * set.dim);
  for (size_t i = 0; i < set.pixels.size(); ++i) {
    set.pixels[i] = static_cast<unsigned char>(images[16 + i]) / 255.0f;
  }
  set.labels.resize(n);
  for (int i = 0; i < n; ++i) {
    set.labels[i] = static_cast<unsigned char>(labels[8 + i]);
    if (set.labels[i] > 9) {
      return InvalidArgumentError(label_path + ": label " + std::to_string(set.labels[i]) +
                                  " of sample " + std::to_string(i) + " is not in 0..9");
    }
  }
  return set;
}

ImageSet SelectImages(const ImageSet& set, const std::vector<int>& rows) {
  ImageSet out;
  out.dim = set.dim;
  out.pixels.reserve(rows.size() * set.dim);
  for (int r : rows) {
    out.pixels.insert(out.pixels.end(), set.pixels.begin() + static_cast<size_t>(r) * set.dim,
                      set.pixels.begin() + static_cast<size_t>(r + 1) * set.dim);
    out.labels.push_back(set.labels[r]);
  }
  return out;
}

StatusOr<std::vector<std::vector<int>>> SplitByChild(const std::vector<int>& labels, int children,
                                                     const std::string& split, double alpha,
                                                     uint64_t seed) {
  if (children <= 0) return InvalidArgumentError("the split needs at least one child");
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int>> parts(children);
  if (split == "iid") {
    std::vector<int> order(labels.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i = 0; i < order.size(); ++i) parts[i % children].push_back(order[i]);
  } else if (split == "dirichlet") {
    if (!(alpha > 0)) return InvalidArgumentError("the Dirichlet split needs alpha > 0");
    const int classes = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
    std::gamma_distribution<double> gamma(alpha, 1.0);
    for (int c = 0; c < classes; ++c) {
      std::vector<int> rows;
      for (size_t i = 0; i < labels.size(); ++i)
        if (labels[i] == c) rows.push_back(static_cast<int>(i));
      std::shuffle(rows.begin(), rows.end(), rng);
      std::vector<double> share(children);
      double total = 0;
      for (double& s : share) total += (s = gamma(rng));
      // Cumulative cut points; a degenerate draw (all ~0) falls back to an even share.
      size_t begin = 0;
      double cumulative = 0;
      for (int k = 0; k < children; ++k) {
        cumulative += total > 0 ? share[k] / total : 1.0 / children;
        const size_t end =
            k + 1 == children
                ? rows.size()
                : std::min(rows.size(),
                           static_cast<size_t>(std::llround(cumulative * rows.size())));
        for (size_t i = begin; i < end; ++i) parts[k].push_back(rows[i]);
        begin = std::max(begin, end);
      }
    }
    for (auto& p : parts) std::sort(p.begin(), p.end());
  } else {
    return InvalidArgumentError("split '" + split + "' is unknown; use iid or dirichlet");
  }
  return parts;
}

StatusOr<std::vector<float>> Aggregate(const std::string& rule,
                                       const std::vector<std::vector<float>>& updates,
                                       const std::vector<double>& weights, double trim_fraction) {
  if (updates.empty()) return InvalidArgumentError("aggregation needs at least one update");
  if (weights.size() != updates.size()) {
    return InvalidArgumentError("aggregation got " + std::to_string(updates.size()) +
                                " updates but " + std::to_string(weights.size()) + " weights");
  }
  const size_t dim = updates[0].size();
  for (size_t i = 0; i < updates.size(); ++i) {
    if (updates[i].size() != dim) {
      return InvalidArgumentError("update " + std::to_string(i) + " has " +
                                  std::to_string(updates[i].size()) + " parameters, update 0 has " +
                                  std::to_string(dim));
    }
  }
  const size_t n = updates.size();
  std::vector<float> out(dim);
  if (rule == "fedavg") {
    double total = 0;
    for (double w : weights) {
      if (!(w >= 0)) return InvalidArgumentError("fedavg weights must be >= 0");
      total += w;
    }
    if (!(total > 0)) return InvalidArgumentError("fedavg weights sum to 0");
    std::vector<double> sum(dim, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < dim; ++j) sum[j] += weights[i] * updates[i][j];
    for (size_t j = 0; j < dim; ++j) out[j] = static_cast<float>(sum[j] / total);
    return out;
  }
  if (rule != "median" && rule != "trimmed_mean") {
    return InvalidArgumentError("aggregation '" + rule +
                                "' is unknown; use fedavg, median or trimmed_mean");
  }
  if (!(trim_fraction >= 0 && trim_fraction < 0.5)) {
    return InvalidArgumentError("trim_fraction must be in [0, 0.5)");
  }
  // Trimmed mean drops `cut` values at each end; the median keeps the middle one or two.
  const size_t cut =
      rule == "median" ? (n - 1) / 2
                       : std::min((n - 1) / 2, static_cast<size_t>(std::floor(trim_fraction * n)));
  std::vector<float> column(n);
  for (size_t j = 0; j < dim; ++j) {
    for (size_t i = 0; i < n; ++i) column[i] = updates[i][j];
    std::sort(column.begin(), column.end());
    double sum = 0;
    for (size_t i = cut; i < n - cut; ++i) sum += column[i];
    out[j] = static_cast<float>(sum / static_cast<double>(n - 2 * cut));
  }
  return out;
}

}  // namespace colony::fl

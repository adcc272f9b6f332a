// LibTorch kernels of the standard ops. Slot indices follow the schemas in
// graph/standard_ops.cc; every kernel is differentiable through autograd.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>

#include "colony/exec/kernel_registry.h"

// GCC 12 reports a false maybe-uninitialized in StatusOr<std::string>'s std::optional once the
// attr accessors are inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace colony::exec {
namespace {

Status Bad(const KernelContext& ctx, const std::string& what) {
  return InvalidArgumentError("op '" + ctx.op().type() + "': " + what);
}

at::Tensor OptionalInput(const KernelContext& ctx, int slot) {
  return ctx.HasInput(slot) ? ctx.Input(slot) : at::Tensor();
}

// sparse_lookup / lookup: Ids, W, Offsets, PerSampleWeights -> Out.
Status LookupKernel(KernelContext& ctx) {
  const at::Tensor& ids = ctx.Input(0);
  const at::Tensor& w = ctx.Input(1);
  if (ctx.HasInput(2)) {
    COLONY_ASSIGN_OR_RETURN(std::string combiner, ctx.String("combiner", "sum"));
    const int64_t mode = combiner == "mean" ? 1 : 0;
    at::Tensor psw = OptionalInput(ctx, 3);
    if (psw.defined() && mode != 0) return Bad(ctx, "PerSampleWeights needs combiner 'sum'");
    auto out = at::embedding_bag(w, ids, ctx.Input(2), /*scale_grad_by_freq=*/false, mode,
                                 /*sparse=*/false, psw);
    ctx.SetOutput(0, std::get<0>(out));
    return OkStatus();
  }
  ctx.SetOutput(0, at::embedding(w, ids));
  return OkStatus();
}

StatusOr<at::Tensor> Activate(const KernelContext& ctx, at::Tensor x, const std::string& act) {
  if (act == "none") return x;
  if (act == "relu") return at::relu(x);
  if (act == "sigmoid") return at::sigmoid(x);
  if (act == "tanh") return at::tanh(x);
  return Bad(ctx, "unknown activation '" + act + "'");
}

// fc: X, W, B -> Out.
Status FcKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  const at::Tensor& w = ctx.Input(1);
  at::Tensor out;
  if (ctx.HasInput(2) && x.dim() == 2) {
    out = at::addmm(ctx.Input(2), x, w);
  } else {
    out = at::matmul(x, w);
    if (ctx.HasInput(2)) out = out + ctx.Input(2);
  }
  COLONY_ASSIGN_OR_RETURN(std::string act, ctx.String("activation", "none"));
  COLONY_ASSIGN_OR_RETURN(out, Activate(ctx, std::move(out), act));
  ctx.SetOutput(0, std::move(out));
  return OkStatus();
}

Status MatmulKernel(KernelContext& ctx) {
  at::Tensor x = ctx.Input(0), y = ctx.Input(1);
  COLONY_ASSIGN_OR_RETURN(bool tx, ctx.Bool("transpose_x", false));
  COLONY_ASSIGN_OR_RETURN(bool ty, ctx.Bool("transpose_y", false));
  if (tx) x = x.transpose(-1, -2);
  if (ty) y = y.transpose(-1, -2);
  ctx.SetOutput(0, at::matmul(x, y));
  return OkStatus();
}

Status AddKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::add(ctx.Input(0), ctx.Input(1)));
  return OkStatus();
}
Status SubKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::sub(ctx.Input(0), ctx.Input(1)));
  return OkStatus();
}
Status MulKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::mul(ctx.Input(0), ctx.Input(1)));
  return OkStatus();
}
Status DivKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::div(ctx.Input(0), ctx.Input(1)));
  return OkStatus();
}

Status ScaleKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(float scale, ctx.Float("scale", 1.0f));
  COLONY_ASSIGN_OR_RETURN(float bias, ctx.Float("bias", 0.0f));
  at::Tensor out = ctx.Input(0) * scale;
  if (bias != 0.0f) out = out + bias;
  ctx.SetOutput(0, std::move(out));
  return OkStatus();
}

Status ReluKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::relu(ctx.Input(0)));
  return OkStatus();
}
Status SigmoidKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::sigmoid(ctx.Input(0)));
  return OkStatus();
}
Status TanhKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::tanh(ctx.Input(0)));
  return OkStatus();
}
Status GeluKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::gelu(ctx.Input(0)));
  return OkStatus();
}
Status SoftmaxKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", -1));
  ctx.SetOutput(0, at::softmax(ctx.Input(0), axis));
  return OkStatus();
}

Status ConcatKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
  std::vector<at::Tensor> xs;
  xs.reserve(ctx.NumInputs(0));
  for (int i = 0; i < ctx.NumInputs(0); ++i) xs.push_back(ctx.Input(0, i));
  ctx.SetOutput(0, at::cat(xs, axis));
  return OkStatus();
}

Status SplitKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> sections, ctx.Ints("sections", {}));
  if (static_cast<int>(sections.size()) != ctx.NumOutputs(0)) {
    return Bad(ctx, "sections has " + std::to_string(sections.size()) + " entries for " +
                        std::to_string(ctx.NumOutputs(0)) + " outputs");
  }
  std::vector<at::Tensor> parts = at::split_with_sizes(ctx.Input(0), sections, axis);
  for (size_t i = 0; i < parts.size(); ++i) ctx.SetOutput(0, static_cast<int>(i), parts[i]);
  return OkStatus();
}

Status ReshapeKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.Ints("shape", {}));
  ctx.SetOutput(0, ctx.Input(0).reshape(shape));
  return OkStatus();
}

Status FlattenKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(int64_t start, ctx.Int("start_axis", 1));
  ctx.SetOutput(0, ctx.Input(0).flatten(start));
  return OkStatus();
}

template <bool kMean>
Status ReduceKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ctx.Ints("axes", {}));
  COLONY_ASSIGN_OR_RETURN(bool keep, ctx.Bool("keep_dim", false));
  if (axes.empty()) {
    for (int64_t i = 0; i < x.dim(); ++i) axes.push_back(i);
  }
  ctx.SetOutput(0, kMean ? at::mean(x, axes, keep) : at::sum(x, axes, keep));
  return OkStatus();
}

// sequence_pool: X [B, T, D], Mask [B, T] (nonzero = valid) or Lengths [B] -> Out [B, D].
// Rows without a valid step pool to zeros.
Status SequencePoolKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  COLONY_ASSIGN_OR_RETURN(std::string pool, ctx.String("pool", "sum"));
  const int64_t t = x.size(1);
  at::Tensor valid;  // [B, T] bool
  if (ctx.HasInput(1)) {
    valid = ctx.Input(1).ne(0);
  } else if (ctx.HasInput(2)) {
    valid = at::arange(t, ctx.Input(2).options()).unsqueeze(0).lt(ctx.Input(2).unsqueeze(1));
  }
  if (!valid.defined()) {
    if (pool == "sum")
      ctx.SetOutput(0, x.sum(1));
    else if (pool == "mean")
      ctx.SetOutput(0, x.mean(1));
    else if (pool == "max")
      ctx.SetOutput(0, std::get<0>(x.max(1)));
    else if (pool == "last")
      ctx.SetOutput(0, x.select(1, t - 1));
    else
      return Bad(ctx, "unknown pool '" + pool + "'");
    return OkStatus();
  }
  const at::Tensor m = valid.unsqueeze(2).to(x.scalar_type());  // [B, T, 1]
  const at::Tensor count = valid.sum(1, /*keepdim=*/true);      // [B, 1]
  const at::Tensor any = count.gt(0);
  at::Tensor out;
  if (pool == "sum") {
    out = (x * m).sum(1);
  } else if (pool == "mean") {
    out = (x * m).sum(1) / count.clamp_min(1).to(x.scalar_type());
  } else if (pool == "max") {
    at::Tensor masked =
        x.masked_fill(valid.logical_not().unsqueeze(2), -std::numeric_limits<double>::infinity());
    out = at::where(any, std::get<0>(masked.max(1)), at::zeros({}, x.options()));
  } else if (pool == "last") {
    // Index of the last valid step: max over (t + 1) * valid, minus one.
    at::Tensor pos = at::arange(1, t + 1, valid.options().dtype(at::kLong)).unsqueeze(0);
    at::Tensor last = (pos * valid.to(at::kLong)).amax(1).sub(1).clamp_min(0);  // [B]
    at::Tensor idx = last.view({-1, 1, 1}).expand({x.size(0), 1, x.size(2)});
    out = at::where(any, x.gather(1, idx).squeeze(1), at::zeros({}, x.options()));
  } else {
    return Bad(ctx, "unknown pool '" + pool + "'");
  }
  ctx.SetOutput(0, std::move(out));
  return OkStatus();
}

Status SoftmaxCeKernel(KernelContext& ctx) {
  const at::Tensor& logits = ctx.Input(0);
  at::Tensor label = ctx.Input(1).reshape({-1});
  ctx.SetOutput(0, at::nll_loss(at::log_softmax(logits, 1), label));
  return OkStatus();
}

Status SigmoidBceKernel(KernelContext& ctx) {
  const at::Tensor& logits = ctx.Input(0);
  at::Tensor label = ctx.Input(1).to(logits.scalar_type());
  ctx.SetOutput(0, at::binary_cross_entropy_with_logits(logits, label));
  return OkStatus();
}

Status LayerNormKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  COLONY_ASSIGN_OR_RETURN(float eps, ctx.Float("epsilon", 1e-5f));
  ctx.SetOutput(0,
                at::layer_norm(x, {x.size(-1)}, OptionalInput(ctx, 1), OptionalInput(ctx, 2), eps));
  return OkStatus();
}

// Seeds differ per (executor seed, step, op index), so equal seeds and steps drop equal units.
uint64_t MixSeed(uint64_t seed, int64_t step, int op_index) {
  uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL;
  for (uint64_t v : {static_cast<uint64_t>(step), static_cast<uint64_t>(op_index)}) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  return h;
}

Status DropoutKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  COLONY_ASSIGN_OR_RETURN(float p, ctx.Float("p", 0.5f));
  if (!ctx.training() || p == 0.0f) {
    ctx.SetOutput(0, x);
    return OkStatus();
  }
  at::Generator gen =
      at::make_generator<at::CPUGeneratorImpl>(MixSeed(ctx.seed(), ctx.step(), ctx.op_index()));
  at::Tensor keep = at::empty(x.sizes(), x.options().device(at::kCPU).requires_grad(false));
  keep.bernoulli_(1.0 - p, gen);
  keep.div_(1.0 - p);
  ctx.SetOutput(0, x * keep.to(x.device()));
  return OkStatus();
}

// gru_cell: X, H, Wx [I, 3H], Wh [H, 3H], Bx, Bh -> Out. Gate order r, z, n (torch's).
Status GruCellKernel(KernelContext& ctx) {
  ctx.SetOutput(0, at::gru_cell(ctx.Input(0), ctx.Input(1), ctx.Input(2).t(), ctx.Input(3).t(),
                                OptionalInput(ctx, 4), OptionalInput(ctx, 5)));
  return OkStatus();
}

// lstm_cell: X, H, C, Wx [I, 4H], Wh [H, 4H], B -> HOut, COut. Gate order i, f, g, o (torch's).
Status LstmCellKernel(KernelContext& ctx) {
  auto [h, c] = at::lstm_cell(ctx.Input(0), {ctx.Input(1), ctx.Input(2)}, ctx.Input(3).t(),
                              ctx.Input(4).t(), OptionalInput(ctx, 5), at::Tensor());
  ctx.SetOutput(0, h);
  ctx.SetOutput(1, c);
  return OkStatus();
}

// attention: softmax(Q K^T / sqrt(D)) V; Mask [B, Tk] or [B, Tq, Tk], nonzero = attend. A
// query with no key to attend to gets zeros (and zero gradients), not NaN.
Status AttentionKernel(KernelContext& ctx) {
  const at::Tensor& q = ctx.Input(0);
  const at::Tensor& k = ctx.Input(1);
  const at::Tensor& v = ctx.Input(2);
  at::Tensor scores =
      at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (ctx.HasInput(3)) {
    at::Tensor keep = ctx.Input(3).ne(0);
    if (keep.dim() == 2) keep = keep.unsqueeze(1);
    const at::Tensor drop = keep.logical_not();
    at::Tensor probs = at::softmax(scores.masked_fill(drop, -1e9), -1).masked_fill(drop, 0.0);
    ctx.SetOutput(0, at::matmul(probs, v));
  } else {
    ctx.SetOutput(0, at::matmul(at::softmax(scores, -1), v));
  }
  return OkStatus();
}

Status GatherKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
  ctx.SetOutput(0, at::index_select(ctx.Input(0), axis, ctx.Input(1)));
  return OkStatus();
}

Status ScatterAddKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(int64_t axis, ctx.Int("axis", 0));
  ctx.SetOutput(0, at::index_add(ctx.Input(0), axis, ctx.Input(1), ctx.Input(2)));
  return OkStatus();
}

// sparse_adj_matmul: X [M, D], Row, Col [E], Value [E] -> Out [M, D].
Status SparseAdjMatmulKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  const at::Tensor& row = ctx.Input(1);
  const at::Tensor& col = ctx.Input(2);
  const at::Tensor& value = ctx.Input(3);
  if (row.numel() != col.numel() || row.numel() != value.numel()) {
    return Bad(ctx, "Row, Col and Value have " + std::to_string(row.numel()) + ", " +
                        std::to_string(col.numel()) + " and " + std::to_string(value.numel()) +
                        " entries");
  }
  const at::Tensor messages = x.index_select(0, col) * value.unsqueeze(1);
  ctx.SetOutput(0, at::zeros_like(x).index_add(0, row, messages));
  return OkStatus();
}

// segment_softmax: X [E] or [E, H], Segment [E]. The per-segment max is a constant shift
// (detached), so autograd sees exp(x - c) / sum exp(x - c), whose gradient is exact.
Status SegmentSoftmaxKernel(KernelContext& ctx) {
  const at::Tensor& x = ctx.Input(0);
  const at::Tensor& seg = ctx.Input(1);
  if (seg.numel() != x.size(0)) {
    return Bad(ctx, "Segment has " + std::to_string(seg.numel()) + " ids for " +
                        std::to_string(x.size(0)) + " rows of X");
  }
  if (seg.numel() == 0) {
    ctx.SetOutput(0, x * 1);
    return OkStatus();
  }
  if (seg.min().item<int64_t>() < 0) return Bad(ctx, "Segment ids must be >= 0");
  const int64_t n = seg.max().item<int64_t>() + 1;
  std::vector<int64_t> shape = x.sizes().vec();
  shape[0] = n;
  // Per-segment maxima by a plain loop (at::scatter_reduce is still beta and warns).
  const at::Tensor xd = x.detach().to(at::kDouble).contiguous().view({x.size(0), -1});
  const at::Tensor sc = seg.to(at::kLong).contiguous();
  const int64_t rows = xd.size(0), cols = xd.size(1);
  at::Tensor maxima = at::full({n, cols}, -std::numeric_limits<double>::infinity(), xd.options());
  const double* xp = xd.data_ptr<double>();
  const int64_t* sp = sc.data_ptr<int64_t>();
  double* mp = maxima.data_ptr<double>();
  for (int64_t e = 0; e < rows; ++e) {
    for (int64_t c = 0; c < cols; ++c) {
      mp[sp[e] * cols + c] = std::max(mp[sp[e] * cols + c], xp[e * cols + c]);
    }
  }
  const at::Tensor shift = maxima.view(shape).to(x.scalar_type());
  const at::Tensor e = at::exp(x - shift.index_select(0, seg));
  const at::Tensor sum = at::zeros(shape, x.options()).index_add(0, seg, e);
  ctx.SetOutput(0, e / sum.index_select(0, seg));
  return OkStatus();
}

// A two-int attr of conv2d / pool2d (one value: both dims).
StatusOr<std::vector<int64_t>> PairAttr(const KernelContext& ctx, std::string_view name,
                                        std::vector<int64_t> fallback) {
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> v, ctx.Ints(name, std::move(fallback)));
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2) return Bad(ctx, "attr " + std::string(name) + " must be one or two ints");
  return v;
}

// conv2d: X, W, B -> Out.
Status Conv2dKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> strides, PairAttr(ctx, "strides", {1, 1}));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> pads, PairAttr(ctx, "paddings", {0, 0}));
  at::Tensor out = at::conv2d(ctx.Input(0), ctx.Input(1), OptionalInput(ctx, 2), strides, pads);
  COLONY_ASSIGN_OR_RETURN(std::string act, ctx.String("activation", "none"));
  COLONY_ASSIGN_OR_RETURN(out, Activate(ctx, std::move(out), act));
  ctx.SetOutput(0, std::move(out));
  return OkStatus();
}

// pool2d: X -> Out.
Status Pool2dKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, PairAttr(ctx, "kernel", {2, 2}));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> strides, PairAttr(ctx, "strides", kernel));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> pads, PairAttr(ctx, "paddings", {0, 0}));
  COLONY_ASSIGN_OR_RETURN(std::string pool, ctx.String("pool", "max"));
  if (pool == "max") {
    ctx.SetOutput(0, at::max_pool2d(ctx.Input(0), kernel, strides, pads));
  } else if (pool == "avg") {
    ctx.SetOutput(0, at::avg_pool2d(ctx.Input(0), kernel, strides, pads));
  } else {
    return Bad(ctx, "pool must be max or avg, got '" + pool + "'");
  }
  return OkStatus();
}

Status LeakyReluKernel(KernelContext& ctx) {
  COLONY_ASSIGN_OR_RETURN(float alpha, ctx.Float("alpha", 0.2f));
  ctx.SetOutput(0, at::leaky_relu(ctx.Input(0), alpha));
  return OkStatus();
}

}  // namespace

Status RegisterStandardKernels(KernelRegistry& r) {
  const std::pair<const char*, KernelFn> kernels[] = {
      {"sparse_lookup", LookupKernel},
      {"lookup", LookupKernel},
      {"fc", FcKernel},
      {"matmul", MatmulKernel},
      {"add", AddKernel},
      {"sub", SubKernel},
      {"mul", MulKernel},
      {"div", DivKernel},
      {"scale", ScaleKernel},
      {"relu", ReluKernel},
      {"sigmoid", SigmoidKernel},
      {"tanh", TanhKernel},
      {"gelu", GeluKernel},
      {"softmax", SoftmaxKernel},
      {"concat", ConcatKernel},
      {"split", SplitKernel},
      {"reshape", ReshapeKernel},
      {"flatten", FlattenKernel},
      {"reduce_sum", ReduceKernel<false>},
      {"reduce_mean", ReduceKernel<true>},
      {"sequence_pool", SequencePoolKernel},
      {"softmax_cross_entropy", SoftmaxCeKernel},
      {"sigmoid_bce", SigmoidBceKernel},
      {"layer_norm", LayerNormKernel},
      {"dropout", DropoutKernel},
      {"gru_cell", GruCellKernel},
      {"lstm_cell", LstmCellKernel},
      {"attention", AttentionKernel},
      {"gather", GatherKernel},
      {"scatter_add", ScatterAddKernel},
      {"segment_softmax", SegmentSoftmaxKernel},
      {"sparse_adj_matmul", SparseAdjMatmulKernel},
      {"leaky_relu", LeakyReluKernel},
      {"conv2d", Conv2dKernel},
      {"pool2d", Pool2dKernel},
  };
  for (const auto& [name, fn] : kernels) COLONY_RETURN_IF_ERROR(r.Register(name, fn));
  return OkStatus();
}

}  // namespace colony::exec

// The standard op schemas: slots, shape inference and cost. Kernels are in exec under the
// same names; docs/program.md lists the semantics.
#include <numeric>

#include "colony/graph/op_registry.h"
#include "colony/graph/program.h"

namespace colony::graph {
namespace {

using Shapes = std::vector<VarShape>;

Status Bad(const OpDesc& op, const std::string& what) {
  return InvalidArgumentError("op '" + op.type() + "': " + what);
}

int NumVars(const OpDesc& op, std::string_view slot) {
  const Slot* s = FindInput(op, slot);
  return s == nullptr ? 0 : s->vars_size();
}

StatusOr<VarShape> In(const OpDesc& op, const ShapeEnv& env, std::string_view slot, int i = 0) {
  const Slot* s = FindInput(op, slot);
  if (s == nullptr || s->vars_size() <= i) {
    return Bad(op, "input slot " + std::string(slot) + " is not bound");
  }
  StatusOr<VarShape> shape = env.Get(s->vars(i));
  if (!shape.ok())
    return Bad(op, "input " + std::string(slot) + ": " + std::string(shape.status().message()));
  return shape;
}

// -1 is unknown; two known sizes must be equal.
bool Compatible(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }
int64_t Merge(int64_t a, int64_t b) { return a >= 0 ? a : b; }

StatusOr<int64_t> NormAxis(const OpDesc& op, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) {
    return Bad(
        op, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + r : axis;
}

StatusOr<std::vector<int64_t>> Broadcast(const OpDesc& op, const std::vector<int64_t>& a,
                                         const std::vector<int64_t>& b) {
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = i + a.size() >= n ? a[i + a.size() - n] : 1;
    const int64_t y = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (x == 1) {
      out[i] = y;
    } else if (y == 1) {
      out[i] = x;
    } else if (Compatible(x, y)) {
      out[i] = Merge(x, y);
    } else {
      return Bad(op,
                 "shapes " + ShapeToString(a) + " and " + ShapeToString(b) + " do not broadcast");
    }
  }
  return out;
}

double Numel(const std::vector<int64_t>& dims, const DeviceProfile& d) {
  double n = 1;
  for (int64_t x : dims) n *= x < 0 ? static_cast<double>(d.batch_size) : static_cast<double>(x);
  return n;
}

double Bytes(const VarShape& s, const DeviceProfile& d) {
  return Numel(s.dims, d) * static_cast<double>(DataTypeSize(s.dtype));
}

// Bytes of every bound input plus every inferred output; output shapes are re-inferred.
struct IoSizes {
  double bytes = 0;
  double out_elems = 0;
  double in_elems = 0;
  Shapes outs;
};

using InferFn = std::function<StatusOr<Shapes>(const OpDesc&, const ShapeEnv&)>;

IoSizes Io(const InferFn& infer, const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d) {
  IoSizes io;
  for (const Slot& slot : op.inputs()) {
    for (const std::string& v : slot.vars()) {
      StatusOr<VarShape> s = env.Get(v);
      if (!s.ok()) continue;
      io.bytes += Bytes(*s, d);
      io.in_elems += Numel(s->dims, d);
    }
  }
  StatusOr<Shapes> outs = infer(op, env);
  if (outs.ok()) {
    for (const VarShape& s : *outs) {
      io.bytes += Bytes(s, d);
      io.out_elems += Numel(s.dims, d);
    }
    io.outs = *std::move(outs);
  }
  return io;
}

// Registers a schema whose cost is `flops(op, env, device, io)` FLOPs and the I/O bytes.
using FlopsFn =
    std::function<double(const OpDesc&, const ShapeEnv&, const DeviceProfile&, const IoSizes&)>;

FlopsFn PerOutput(double k) {
  return [k](const OpDesc&, const ShapeEnv&, const DeviceProfile&, const IoSizes& io) {
    return k * io.out_elems;
  };
}
FlopsFn PerInput(double k) {
  return [k](const OpDesc&, const ShapeEnv&, const DeviceProfile&, const IoSizes& io) {
    return k * io.in_elems;
  };
}

OpSchema Make(std::string name, std::string doc, std::vector<std::string> inputs,
              std::vector<std::string> optional, std::vector<std::string> outputs, InferFn infer,
              FlopsFn flops) {
  OpSchema s;
  s.name = std::move(name);
  s.doc = std::move(doc);
  s.inputs = std::move(inputs);
  s.optional_inputs = std::move(optional);
  s.outputs = std::move(outputs);
  s.infer_shapes = infer;
  s.cost = [infer, flops](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d) {
    IoSizes io = Io(infer, op, env, d);
    return OpCost{flops(op, env, d, io), io.bytes};
  };
  return s;
}

Status Add(OpRegistry& r, std::string name, std::string doc, std::vector<std::string> inputs,
           std::vector<std::string> optional, std::vector<std::string> outputs, InferFn infer,
           FlopsFn flops) {
  return r.Register(Make(std::move(name), std::move(doc), std::move(inputs), std::move(optional),
                         std::move(outputs), std::move(infer), std::move(flops)));
}

StatusOr<Shapes> SameAsX(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  return Shapes{x};
}

StatusOr<Shapes> Elementwise(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape y, In(op, env, "Y"));
  if (x.dtype != y.dtype) return Bad(op, "X and Y have different dtypes");
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> dims, Broadcast(op, x.dims, y.dims));
  return Shapes{{x.dtype, dims}};
}

StatusOr<Shapes> Lookup(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape ids, In(op, env, "Ids"));
  COLONY_ASSIGN_OR_RETURN(VarShape w, In(op, env, "W"));
  if (ids.dtype != INT64) return Bad(op, "Ids must be int64");
  if (w.dims.size() != 2) return Bad(op, "W must be [rows, dim], got " + ShapeToString(w.dims));
  COLONY_ASSIGN_OR_RETURN(std::string combiner, GetStringAttr(op, "combiner", "sum"));
  if (combiner != "sum" && combiner != "mean") {
    return Bad(op, "combiner must be 'sum' or 'mean', got '" + combiner + "'");
  }
  if (NumVars(op, "Offsets") > 0) {
    COLONY_ASSIGN_OR_RETURN(VarShape offsets, In(op, env, "Offsets"));
    if (ids.dims.size() != 1 || offsets.dims.size() != 1 || offsets.dtype != INT64) {
      return Bad(op, "with Offsets, Ids must be [N] and Offsets int64 [B]");
    }
    if (NumVars(op, "PerSampleWeights") > 0) {
      COLONY_ASSIGN_OR_RETURN(VarShape psw, In(op, env, "PerSampleWeights"));
      if (psw.dims.size() != 1 || !Compatible(psw.dims[0], ids.dims[0])) {
        return Bad(op, "PerSampleWeights must be [N] like Ids");
      }
    }
    return Shapes{{w.dtype, {offsets.dims[0], w.dims[1]}}};
  }
  if (NumVars(op, "PerSampleWeights") > 0) return Bad(op, "PerSampleWeights needs Offsets");
  std::vector<int64_t> dims = ids.dims;
  dims.push_back(w.dims[1]);
  return Shapes{{w.dtype, dims}};
}

StatusOr<Shapes> Fc(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape w, In(op, env, "W"));
  if (x.dims.empty()) return Bad(op, "X must have rank >= 1");
  if (w.dims.size() != 2) return Bad(op, "W must be [in, out], got " + ShapeToString(w.dims));
  if (!Compatible(x.dims.back(), w.dims[0])) {
    return Bad(op, "X " + ShapeToString(x.dims) + " does not match W " + ShapeToString(w.dims));
  }
  if (NumVars(op, "B") > 0) {
    COLONY_ASSIGN_OR_RETURN(VarShape b, In(op, env, "B"));
    if (b.dims.size() != 1 || !Compatible(b.dims[0], w.dims[1])) {
      return Bad(op, "B must be [" + std::to_string(w.dims[1]) + "], got " + ShapeToString(b.dims));
    }
  }
  COLONY_ASSIGN_OR_RETURN(std::string act, GetStringAttr(op, "activation", "none"));
  if (act != "none" && act != "relu" && act != "sigmoid" && act != "tanh") {
    return Bad(op, "activation must be none, relu, sigmoid or tanh, got '" + act + "'");
  }
  std::vector<int64_t> dims = x.dims;
  dims.back() = w.dims[1];
  return Shapes{{x.dtype, dims}};
}

StatusOr<Shapes> Matmul(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape y, In(op, env, "Y"));
  if (x.dims.size() < 2 || y.dims.size() < 2) return Bad(op, "X and Y must have rank >= 2");
  COLONY_ASSIGN_OR_RETURN(bool tx, GetBoolAttr(op, "transpose_x", false));
  COLONY_ASSIGN_OR_RETURN(bool ty, GetBoolAttr(op, "transpose_y", false));
  std::vector<int64_t> xd = x.dims, yd = y.dims;
  if (tx) std::swap(xd[xd.size() - 1], xd[xd.size() - 2]);
  if (ty) std::swap(yd[yd.size() - 1], yd[yd.size() - 2]);
  const int64_t m = xd[xd.size() - 2], k = xd.back(), k2 = yd[yd.size() - 2], n = yd.back();
  if (!Compatible(k, k2)) {
    return Bad(op,
               "inner dims differ: X " + ShapeToString(x.dims) + ", Y " + ShapeToString(y.dims));
  }
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> batch,
                          Broadcast(op, {xd.begin(), xd.end() - 2}, {yd.begin(), yd.end() - 2}));
  batch.push_back(m);
  batch.push_back(n);
  return Shapes{{x.dtype, batch}};
}

StatusOr<Shapes> Concat(const OpDesc& op, const ShapeEnv& env) {
  const int n = NumVars(op, "X");
  if (n == 0) return Bad(op, "X needs at least one var");
  COLONY_ASSIGN_OR_RETURN(VarShape first, In(op, env, "X", 0));
  COLONY_ASSIGN_OR_RETURN(int64_t axis_attr, GetIntAttr(op, "axis", 0));
  COLONY_ASSIGN_OR_RETURN(int64_t axis, NormAxis(op, axis_attr, first.dims.size()));
  std::vector<int64_t> dims = first.dims;
  for (int i = 1; i < n; ++i) {
    COLONY_ASSIGN_OR_RETURN(VarShape s, In(op, env, "X", i));
    if (s.dims.size() != dims.size()) return Bad(op, "X vars have different ranks");
    for (size_t d = 0; d < dims.size(); ++d) {
      if (static_cast<int64_t>(d) == axis) {
        dims[d] = (dims[d] < 0 || s.dims[d] < 0) ? -1 : dims[d] + s.dims[d];
      } else if (!Compatible(dims[d], s.dims[d])) {
        return Bad(op, "X[" + std::to_string(i) + "] " + ShapeToString(s.dims) +
                           " does not match " + ShapeToString(first.dims) + " off the axis");
      } else {
        dims[d] = Merge(dims[d], s.dims[d]);
      }
    }
  }
  return Shapes{{first.dtype, dims}};
}

StatusOr<Shapes> Split(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(int64_t axis_attr, GetIntAttr(op, "axis", 0));
  COLONY_ASSIGN_OR_RETURN(int64_t axis, NormAxis(op, axis_attr, x.dims.size()));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> sections, GetIntsAttr(op, "sections", {}));
  if (sections.empty()) return Bad(op, "attr sections (sizes along axis) is required");
  int64_t total = 0;
  for (int64_t s : sections) {
    if (s <= 0) return Bad(op, "sections must be > 0");
    total += s;
  }
  if (x.dims[axis] >= 0 && total != x.dims[axis]) {
    return Bad(op, "sections sum to " + std::to_string(total) + " but X has " +
                       std::to_string(x.dims[axis]) + " along axis " + std::to_string(axis));
  }
  Shapes out;
  for (int64_t s : sections) {
    VarShape v = x;
    v.dims[axis] = s;
    out.push_back(v);
  }
  return out;
}

StatusOr<Shapes> Reshape(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> shape, GetIntsAttr(op, "shape", {}));
  if (shape.empty()) return Bad(op, "attr shape is required");
  int infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0) return Bad(op, "shape may hold at most one -1");
      infer_at = static_cast<int>(i);
    } else if (shape[i] <= 0) {
      return Bad(op, "shape dims must be > 0 or -1, got " + ShapeToString(shape));
    } else {
      known *= shape[i];
    }
  }
  int64_t total = 1;
  bool dynamic = false;
  for (int64_t d : x.dims) {
    if (d < 0)
      dynamic = true;
    else
      total *= d;
  }
  if (!dynamic) {
    if (infer_at >= 0) {
      if (total % known != 0)
        return Bad(op, "cannot reshape " + ShapeToString(x.dims) + " to " + ShapeToString(shape));
      shape[infer_at] = total / known;
    } else if (total != known) {
      return Bad(op, "cannot reshape " + ShapeToString(x.dims) + " to " + ShapeToString(shape));
    }
  } else if (infer_at < 0) {
    return Bad(op, "X has a run-time dim, so shape needs a -1");
  }
  return Shapes{{x.dtype, shape}};
}

StatusOr<Shapes> Flatten(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(int64_t start_attr, GetIntAttr(op, "start_axis", 1));
  COLONY_ASSIGN_OR_RETURN(int64_t start, NormAxis(op, start_attr, x.dims.size()));
  std::vector<int64_t> dims(x.dims.begin(), x.dims.begin() + start);
  int64_t rest = 1;
  for (size_t i = start; i < x.dims.size(); ++i)
    rest = (rest < 0 || x.dims[i] < 0) ? -1 : rest * x.dims[i];
  dims.push_back(rest);
  return Shapes{{x.dtype, dims}};
}

StatusOr<Shapes> Reduce(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> axes, GetIntsAttr(op, "axes", {}));
  COLONY_ASSIGN_OR_RETURN(bool keep, GetBoolAttr(op, "keep_dim", false));
  std::vector<bool> reduced(x.dims.size(), axes.empty());
  for (int64_t a : axes) {
    COLONY_ASSIGN_OR_RETURN(int64_t axis, NormAxis(op, a, x.dims.size()));
    reduced[axis] = true;
  }
  std::vector<int64_t> dims;
  for (size_t i = 0; i < x.dims.size(); ++i) {
    if (!reduced[i])
      dims.push_back(x.dims[i]);
    else if (keep)
      dims.push_back(1);
  }
  return Shapes{{x.dtype, dims}};
}

StatusOr<Shapes> SequencePool(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  if (x.dims.size() != 3) return Bad(op, "X must be [B, T, D], got " + ShapeToString(x.dims));
  COLONY_ASSIGN_OR_RETURN(std::string pool, GetStringAttr(op, "pool", "sum"));
  if (pool != "sum" && pool != "mean" && pool != "max" && pool != "last") {
    return Bad(op, "pool must be sum, mean, max or last, got '" + pool + "'");
  }
  if (NumVars(op, "Mask") > 0 && NumVars(op, "Lengths") > 0) {
    return Bad(op, "bind Mask or Lengths, not both");
  }
  if (NumVars(op, "Mask") > 0) {
    COLONY_ASSIGN_OR_RETURN(VarShape m, In(op, env, "Mask"));
    if (m.dims.size() != 2) return Bad(op, "Mask must be [B, T]");
  }
  if (NumVars(op, "Lengths") > 0) {
    COLONY_ASSIGN_OR_RETURN(VarShape l, In(op, env, "Lengths"));
    if (l.dims.size() != 1 || l.dtype != INT64) return Bad(op, "Lengths must be int64 [B]");
  }
  return Shapes{{x.dtype, {x.dims[0], x.dims[2]}}};
}

StatusOr<Shapes> SoftmaxCe(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape logits, In(op, env, "Logits"));
  COLONY_ASSIGN_OR_RETURN(VarShape label, In(op, env, "Label"));
  if (logits.dims.size() != 2) return Bad(op, "Logits must be [N, C]");
  if (label.dtype != INT64) return Bad(op, "Label must be int64 class ids");
  if (!(label.dims.size() == 1 || (label.dims.size() == 2 && label.dims[1] == 1))) {
    return Bad(op, "Label must be [N] or [N, 1], got " + ShapeToString(label.dims));
  }
  return Shapes{{logits.dtype, {}}};
}

StatusOr<Shapes> SigmoidBce(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape logits, In(op, env, "Logits"));
  COLONY_ASSIGN_OR_RETURN(VarShape label, In(op, env, "Label"));
  if (logits.dims.size() != label.dims.size()) {
    return Bad(op, "Logits " + ShapeToString(logits.dims) + " and Label " +
                       ShapeToString(label.dims) + " differ");
  }
  for (size_t i = 0; i < logits.dims.size(); ++i) {
    if (!Compatible(logits.dims[i], label.dims[i])) {
      return Bad(op, "Logits " + ShapeToString(logits.dims) + " and Label " +
                         ShapeToString(label.dims) + " differ");
    }
  }
  return Shapes{{logits.dtype, {}}};
}

StatusOr<Shapes> LayerNorm(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  if (x.dims.empty()) return Bad(op, "X must have rank >= 1");
  for (const char* slot : {"Scale", "Bias"}) {
    if (NumVars(op, slot) == 0) continue;
    COLONY_ASSIGN_OR_RETURN(VarShape p, In(op, env, slot));
    if (p.dims.size() != 1 || !Compatible(p.dims[0], x.dims.back())) {
      return Bad(op, std::string(slot) + " must be [" + std::to_string(x.dims.back()) + "]");
    }
  }
  return Shapes{x};
}

StatusOr<Shapes> Dropout(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(float p, GetFloatAttr(op, "p", 0.5f));
  if (p < 0 || p >= 1) return Bad(op, "p must be in [0, 1), got " + std::to_string(p));
  return SameAsX(op, env);
}

// Cells: X [B, I], H [B, Hd], Wx [I, G*Hd], Wh [Hd, G*Hd], optional Bx/Bh (gru) or B (lstm).
StatusOr<VarShape> CheckCell(const OpDesc& op, const ShapeEnv& env, int gates) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape h, In(op, env, "H"));
  COLONY_ASSIGN_OR_RETURN(VarShape wx, In(op, env, "Wx"));
  COLONY_ASSIGN_OR_RETURN(VarShape wh, In(op, env, "Wh"));
  if (x.dims.size() != 2 || h.dims.size() != 2) return Bad(op, "X and H must be [B, *]");
  const int64_t hd = h.dims[1];
  if (wx.dims != std::vector<int64_t>{x.dims[1], gates * hd}) {
    return Bad(op, "Wx must be " + ShapeToString({x.dims[1], gates * hd}) + ", got " +
                       ShapeToString(wx.dims));
  }
  if (wh.dims != std::vector<int64_t>{hd, gates * hd}) {
    return Bad(op,
               "Wh must be " + ShapeToString({hd, gates * hd}) + ", got " + ShapeToString(wh.dims));
  }
  for (const char* slot : {"Bx", "Bh", "B"}) {
    if (NumVars(op, slot) == 0) continue;
    COLONY_ASSIGN_OR_RETURN(VarShape b, In(op, env, slot));
    if (b.dims != std::vector<int64_t>{gates * hd}) {
      return Bad(op, std::string(slot) + " must be [" + std::to_string(gates * hd) + "]");
    }
  }
  return h;
}

StatusOr<Shapes> GruCell(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape h, CheckCell(op, env, 3));
  return Shapes{h};
}

StatusOr<Shapes> LstmCell(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape h, CheckCell(op, env, 4));
  COLONY_ASSIGN_OR_RETURN(VarShape c, In(op, env, "C"));
  if (!(c.dims.size() == 2 && Compatible(c.dims[1], h.dims[1]))) {
    return Bad(op, "C must have H's shape " + ShapeToString(h.dims));
  }
  return Shapes{h, h};
}

double CellFlops(const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d, int gates) {
  StatusOr<VarShape> x = env.Get(FindInput(op, "X")->vars(0));
  StatusOr<VarShape> h = env.Get(FindInput(op, "H")->vars(0));
  if (!x.ok() || !h.ok()) return 0;
  const double b = Numel({x->dims[0]}, d), in = Numel({x->dims[1]}, d), hd = Numel({h->dims[1]}, d);
  return 2 * b * (in + hd) * gates * hd + 10 * b * gates * hd;
}

StatusOr<Shapes> Attention(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape q, In(op, env, "Q"));
  COLONY_ASSIGN_OR_RETURN(VarShape k, In(op, env, "K"));
  COLONY_ASSIGN_OR_RETURN(VarShape v, In(op, env, "V"));
  if (q.dims.size() != 3 || k.dims.size() != 3 || v.dims.size() != 3) {
    return Bad(op, "Q, K, V must be [B, T, D]");
  }
  if (!Compatible(q.dims[2], k.dims[2]) || !Compatible(k.dims[1], v.dims[1])) {
    return Bad(op, "Q " + ShapeToString(q.dims) + ", K " + ShapeToString(k.dims) + ", V " +
                       ShapeToString(v.dims) + " do not fit");
  }
  if (NumVars(op, "Mask") > 0) {
    COLONY_ASSIGN_OR_RETURN(VarShape m, In(op, env, "Mask"));
    if (m.dims.size() != 2 && m.dims.size() != 3)
      return Bad(op, "Mask must be [B, Tk] or [B, Tq, Tk]");
  }
  return Shapes{{q.dtype, {q.dims[0], q.dims[1], v.dims[2]}}};
}

StatusOr<Shapes> Gather(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape index, In(op, env, "Index"));
  if (index.dtype != INT64 || index.dims.size() != 1) return Bad(op, "Index must be int64 [N]");
  COLONY_ASSIGN_OR_RETURN(int64_t axis_attr, GetIntAttr(op, "axis", 0));
  COLONY_ASSIGN_OR_RETURN(int64_t axis, NormAxis(op, axis_attr, x.dims.size()));
  x.dims[axis] = index.dims[0];
  return Shapes{x};
}

StatusOr<Shapes> ScatterAdd(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape index, In(op, env, "Index"));
  COLONY_ASSIGN_OR_RETURN(VarShape updates, In(op, env, "Updates"));
  if (index.dtype != INT64 || index.dims.size() != 1) return Bad(op, "Index must be int64 [N]");
  COLONY_ASSIGN_OR_RETURN(int64_t axis_attr, GetIntAttr(op, "axis", 0));
  COLONY_ASSIGN_OR_RETURN(int64_t axis, NormAxis(op, axis_attr, x.dims.size()));
  if (updates.dims.size() != x.dims.size() || !Compatible(updates.dims[axis], index.dims[0])) {
    return Bad(op, "Updates must be X's shape with Index's length along axis");
  }
  return Shapes{x};
}

// segment_softmax: X [E] or [E, H], Segment int64 [E] -> softmax of X within each segment.
StatusOr<Shapes> SegmentSoftmax(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape seg, In(op, env, "Segment"));
  if (x.dims.empty() || x.dims.size() > 2) return Bad(op, "X must be [E] or [E, H]");
  if (seg.dtype != INT64 || seg.dims.size() != 1 || !Compatible(seg.dims[0], x.dims[0])) {
    return Bad(op, "Segment must be int64 [E] with X's first dim, got " + ShapeToString(seg.dims) +
                       " for X " + ShapeToString(x.dims));
  }
  return Shapes{x};
}

// sparse_adj_matmul: X [M, D], Row/Col int64 [E], Value [E] -> Out [M, D], Out = A X with
// A[Row[e], Col[e]] += Value[e] (a batch of graphs as one block-diagonal sparse matrix).
StatusOr<Shapes> SparseAdjMatmul(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape row, In(op, env, "Row"));
  COLONY_ASSIGN_OR_RETURN(VarShape col, In(op, env, "Col"));
  COLONY_ASSIGN_OR_RETURN(VarShape value, In(op, env, "Value"));
  if (x.dims.size() != 2) return Bad(op, "X must be [M, D], got " + ShapeToString(x.dims));
  if (row.dtype != INT64 || col.dtype != INT64 || row.dims.size() != 1 || col.dims.size() != 1) {
    return Bad(op, "Row and Col must be int64 [E]");
  }
  if (value.dims.size() != 1 || value.dtype != x.dtype || !Compatible(row.dims[0], col.dims[0]) ||
      !Compatible(row.dims[0], value.dims[0])) {
    return Bad(op, "Row, Col and Value must be [E] of one length, Value of X's dtype");
  }
  return Shapes{x};
}

// Two ints attr (height, width): absent gives `fallback`; one value is used for both.
StatusOr<std::vector<int64_t>> Pair(const OpDesc& op, std::string_view name,
                                    std::vector<int64_t> fallback, int64_t least) {
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> v, GetIntsAttr(op, name, fallback));
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2 || v[0] < least || v[1] < least) {
    return Bad(op, "attr " + std::string(name) + " must be one or two ints >= " +
                       std::to_string(least) + ", got " + ShapeToString(v));
  }
  return v;
}

// Output size of a sliding window along one dim (-1 stays -1).
StatusOr<int64_t> Window(const OpDesc& op, int64_t in, int64_t kernel, int64_t stride,
                         int64_t pad) {
  if (in < 0) return int64_t{-1};
  const int64_t out = (in + 2 * pad - kernel) / stride + 1;
  if (in + 2 * pad < kernel) {
    return Bad(op, "window " + std::to_string(kernel) + " is larger than the padded input " +
                       std::to_string(in + 2 * pad));
  }
  return out;
}

// conv2d: X [N, C, H, W], W [O, C, KH, KW], optional B [O] -> [N, O, H', W'].
StatusOr<Shapes> Conv2d(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  COLONY_ASSIGN_OR_RETURN(VarShape w, In(op, env, "W"));
  if (x.dims.size() != 4) return Bad(op, "X must be [N, C, H, W], got " + ShapeToString(x.dims));
  if (w.dims.size() != 4 || w.dims[2] <= 0 || w.dims[3] <= 0) {
    return Bad(op, "W must be [O, C, KH, KW], got " + ShapeToString(w.dims));
  }
  if (!Compatible(x.dims[1], w.dims[1])) {
    return Bad(op, "X " + ShapeToString(x.dims) + " has " + std::to_string(x.dims[1]) +
                       " channels, W " + ShapeToString(w.dims) + " expects " +
                       std::to_string(w.dims[1]));
  }
  if (NumVars(op, "B") > 0) {
    COLONY_ASSIGN_OR_RETURN(VarShape b, In(op, env, "B"));
    if (b.dims.size() != 1 || !Compatible(b.dims[0], w.dims[0])) {
      return Bad(op, "B must be [" + std::to_string(w.dims[0]) + "], got " + ShapeToString(b.dims));
    }
  }
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> strides, Pair(op, "strides", {1, 1}, 1));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> pads, Pair(op, "paddings", {0, 0}, 0));
  COLONY_ASSIGN_OR_RETURN(std::string act, GetStringAttr(op, "activation", "none"));
  if (act != "none" && act != "relu" && act != "sigmoid" && act != "tanh") {
    return Bad(op, "activation must be none, relu, sigmoid or tanh, got '" + act + "'");
  }
  COLONY_ASSIGN_OR_RETURN(int64_t h, Window(op, x.dims[2], w.dims[2], strides[0], pads[0]));
  COLONY_ASSIGN_OR_RETURN(int64_t wd, Window(op, x.dims[3], w.dims[3], strides[1], pads[1]));
  return Shapes{{x.dtype, {x.dims[0], w.dims[0], h, wd}}};
}

// pool2d: X [N, C, H, W] -> [N, C, H', W'], max or avg over attr kernel windows.
StatusOr<Shapes> Pool2d(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X"));
  if (x.dims.size() != 4) return Bad(op, "X must be [N, C, H, W], got " + ShapeToString(x.dims));
  COLONY_ASSIGN_OR_RETURN(std::string pool, GetStringAttr(op, "pool", "max"));
  if (pool != "max" && pool != "avg") return Bad(op, "pool must be max or avg, got '" + pool + "'");
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, Pair(op, "kernel", {2, 2}, 1));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> strides, Pair(op, "strides", kernel, 1));
  COLONY_ASSIGN_OR_RETURN(std::vector<int64_t> pads, Pair(op, "paddings", {0, 0}, 0));
  if (2 * pads[0] > kernel[0] || 2 * pads[1] > kernel[1]) {
    return Bad(op, "paddings must be at most half the kernel");
  }
  COLONY_ASSIGN_OR_RETURN(int64_t h, Window(op, x.dims[2], kernel[0], strides[0], pads[0]));
  COLONY_ASSIGN_OR_RETURN(int64_t w, Window(op, x.dims[3], kernel[1], strides[1], pads[1]));
  return Shapes{{x.dtype, {x.dims[0], x.dims[1], h, w}}};
}

// recurrent: see docs/program.md. Out[i] is step_outputs[i] stacked over time: [B, T, ...].
StatusOr<Shapes> Recurrent(const OpDesc& op, const ShapeEnv& env) {
  auto it = op.attrs().find("block");
  if (it == op.attrs().end() || it->second.value_case() != AttrValue::kBlock) {
    return Bad(op, "attr block (a block attr) is required");
  }
  COLONY_ASSIGN_OR_RETURN(auto step_inputs, GetStringsAttr(op, "step_inputs", {}));
  COLONY_ASSIGN_OR_RETURN(auto states, GetStringsAttr(op, "states", {}));
  COLONY_ASSIGN_OR_RETURN(auto state_updates, GetStringsAttr(op, "state_updates", {}));
  COLONY_ASSIGN_OR_RETURN(auto step_outputs, GetStringsAttr(op, "step_outputs", {}));
  if (static_cast<int>(step_inputs.size()) != NumVars(op, "X") || step_inputs.empty()) {
    return Bad(op, "step_inputs must name one step var per X var (at least one)");
  }
  if (states.size() != state_updates.size() ||
      static_cast<int>(states.size()) != NumVars(op, "InitStates")) {
    return Bad(op, "states, state_updates and InitStates must have equal lengths");
  }
  for (size_t i = 0; i < step_inputs.size(); ++i) {
    COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X", static_cast<int>(i)));
    COLONY_ASSIGN_OR_RETURN(VarShape s, env.Get(step_inputs[i]));
    if (x.dims.size() != s.dims.size() + 1) {
      return Bad(op, "step input '" + step_inputs[i] + "' must be X[" + std::to_string(i) + "] " +
                         ShapeToString(x.dims) + " without its time dim");
    }
  }
  for (size_t i = 0; i < states.size(); ++i) {
    COLONY_ASSIGN_OR_RETURN(VarShape s, env.Get(states[i]));
    COLONY_ASSIGN_OR_RETURN(VarShape u, env.Get(state_updates[i]));
    if (s.dims.size() != u.dims.size()) {
      return Bad(op, "state '" + states[i] + "' and its update '" + state_updates[i] +
                         "' have different ranks");
    }
  }
  COLONY_ASSIGN_OR_RETURN(VarShape x0, In(op, env, "X", 0));
  if (x0.dims.size() < 2) return Bad(op, "X vars must be [B, T, ...]");
  Shapes out;
  for (const std::string& name : step_outputs) {
    COLONY_ASSIGN_OR_RETURN(VarShape s, env.Get(name));
    if (s.dims.empty()) return Bad(op, "step output '" + name + "' must be [B, ...]");
    s.dims.insert(s.dims.begin() + 1, x0.dims[1]);
    out.push_back(s);
  }
  for (int i = 0; i < NumVars(op, "InitStates"); ++i) {
    COLONY_ASSIGN_OR_RETURN(VarShape s, In(op, env, "InitStates", i));
    out.push_back(s);
  }
  return out;
}

// rnn_start: Cond [B] or [B, F] -> Valid bool [B]: which elements run the tagged span.
StatusOr<Shapes> RnnStart(const OpDesc& op, const ShapeEnv& env) {
  COLONY_ASSIGN_OR_RETURN(VarShape cond, In(op, env, "Cond"));
  if (cond.dims.size() != 1 && cond.dims.size() != 2) return Bad(op, "Cond must be [B] or [B, F]");
  COLONY_ASSIGN_OR_RETURN(std::string condition, GetStringAttr(op, "condition", "nonzero"));
  if (condition != "nonzero" && condition != "greater") {
    return Bad(op, "condition must be 'nonzero' or 'greater', got '" + condition + "'");
  }
  COLONY_ASSIGN_OR_RETURN(int64_t feature, GetIntAttr(op, "feature", 0));
  if (cond.dims.size() == 2 && (feature < 0 || (cond.dims[1] >= 0 && feature >= cond.dims[1]))) {
    return Bad(op, "feature " + std::to_string(feature) + " is out of range for Cond " +
                       ShapeToString(cond.dims));
  }
  return Shapes{{BOOL, {cond.dims[0]}}};
}

// rnn_end: Out[i] = Valid ? X[i] : Skip[i], row by row.
StatusOr<Shapes> RnnEnd(const OpDesc& op, const ShapeEnv& env) {
  if (NumVars(op, "X") == 0 || NumVars(op, "X") != NumVars(op, "Skip")) {
    return Bad(op, "X and Skip need the same number of vars (at least one)");
  }
  COLONY_ASSIGN_OR_RETURN(VarShape valid, In(op, env, "Valid"));
  if (valid.dtype != BOOL || valid.dims.size() != 1) return Bad(op, "Valid must be bool [B]");
  Shapes out;
  for (int i = 0; i < NumVars(op, "X"); ++i) {
    COLONY_ASSIGN_OR_RETURN(VarShape x, In(op, env, "X", i));
    COLONY_ASSIGN_OR_RETURN(VarShape skip, In(op, env, "Skip", i));
    if (x.dims.size() != skip.dims.size() || x.dtype != skip.dtype) {
      return Bad(op, "X[" + std::to_string(i) + "] and Skip[" + std::to_string(i) +
                         "] differ in rank or dtype");
    }
    out.push_back(skip);
  }
  return out;
}

}  // namespace

Status RegisterStandardOps(OpRegistry& r) {
  const std::vector<std::string> none;
  COLONY_RETURN_IF_ERROR(Add(
      r, "sparse_lookup",
      "rows of a batch's sparse-table rows W [U, dim] by local ids; with Offsets an embedding bag",
      {"Ids", "W", "Offsets", "PerSampleWeights"}, {"Offsets", "PerSampleWeights"}, {"Out"}, Lookup,
      PerOutput(1)));
  COLONY_RETURN_IF_ERROR(Add(r, "lookup", "rows of a dense embedding table W [V, dim] by int64 ids",
                             {"Ids", "W", "Offsets", "PerSampleWeights"},
                             {"Offsets", "PerSampleWeights"}, {"Out"}, Lookup, PerOutput(1)));
  COLONY_RETURN_IF_ERROR(
      Add(r, "fc", "X [.., in] @ W [in, out] + B, then activation (none/relu/sigmoid/tanh)",
          {"X", "W", "B"}, {"B"}, {"Out"}, Fc,
          [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d, const IoSizes& io) {
            StatusOr<VarShape> w = env.Get(FindInput(op, "W")->vars(0));
            const double in = w.ok() ? Numel({w->dims[0]}, d) : 1;
            return 2 * in * io.out_elems + 2 * io.out_elems;
          }));
  COLONY_RETURN_IF_ERROR(Add(
      r, "matmul", "batched X @ Y with attrs transpose_x/transpose_y", {"X", "Y"}, none, {"Out"},
      Matmul, [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d, const IoSizes& io) {
        StatusOr<VarShape> x = env.Get(FindInput(op, "X")->vars(0));
        StatusOr<bool> tx = GetBoolAttr(op, "transpose_x", false);
        if (!x.ok() || !tx.ok()) return 0.0;
        const int64_t k = *tx ? x->dims[x->dims.size() - 2] : x->dims.back();
        return 2 * Numel({k}, d) * io.out_elems;
      }));
  for (const char* name : {"add", "sub", "mul", "div"}) {
    COLONY_RETURN_IF_ERROR(Add(r, name, std::string("elementwise ") + name + " with broadcasting",
                               {"X", "Y"}, none, {"Out"}, Elementwise, PerOutput(1)));
  }
  COLONY_RETURN_IF_ERROR(
      Add(r, "scale", "X * scale + bias", {"X"}, none, {"Out"}, SameAsX, PerOutput(2)));
  COLONY_RETURN_IF_ERROR(Add(r, "relu", "max(X, 0)", {"X"}, none, {"Out"}, SameAsX, PerOutput(1)));
  COLONY_RETURN_IF_ERROR(
      Add(r, "sigmoid", "1 / (1 + exp(-X))", {"X"}, none, {"Out"}, SameAsX, PerOutput(4)));
  COLONY_RETURN_IF_ERROR(Add(r, "tanh", "tanh(X)", {"X"}, none, {"Out"}, SameAsX, PerOutput(4)));
  COLONY_RETURN_IF_ERROR(
      Add(r, "gelu", "X * Phi(X) (erf form)", {"X"}, none, {"Out"}, SameAsX, PerOutput(8)));
  COLONY_RETURN_IF_ERROR(Add(r, "softmax", "softmax along attr axis (default -1)", {"X"}, none,
                             {"Out"}, SameAsX, PerOutput(5)));
  COLONY_RETURN_IF_ERROR(Add(r, "concat", "concatenates the X vars along attr axis", {"X"}, none,
                             {"Out"}, Concat, PerOutput(0)));
  COLONY_RETURN_IF_ERROR(Add(r, "split", "splits X along attr axis into attr sections", {"X"}, none,
                             {"Out"}, Split, PerOutput(0)));
  COLONY_RETURN_IF_ERROR(Add(r, "reshape", "X viewed as attr shape (one -1 allowed)", {"X"}, none,
                             {"Out"}, Reshape, PerOutput(0)));
  COLONY_RETURN_IF_ERROR(Add(r, "flatten", "X with dims from attr start_axis merged", {"X"}, none,
                             {"Out"}, Flatten, PerOutput(0)));
  COLONY_RETURN_IF_ERROR(Add(r, "reduce_sum", "sum over attr axes (empty: all), keep_dim", {"X"},
                             none, {"Out"}, Reduce, PerInput(1)));
  COLONY_RETURN_IF_ERROR(Add(r, "reduce_mean", "mean over attr axes (empty: all), keep_dim", {"X"},
                             none, {"Out"}, Reduce, PerInput(1)));
  COLONY_RETURN_IF_ERROR(Add(
      r, "sequence_pool", "pools X [B, T, D] over valid steps (Mask or Lengths): sum/mean/max/last",
      {"X", "Mask", "Lengths"}, {"Mask", "Lengths"}, {"Out"}, SequencePool, PerInput(2)));
  COLONY_RETURN_IF_ERROR(Add(r, "softmax_cross_entropy",
                             "mean cross entropy of Logits [N, C] against int64 Label",
                             {"Logits", "Label"}, none, {"Out"}, SoftmaxCe, PerInput(6)));
  COLONY_RETURN_IF_ERROR(Add(r, "sigmoid_bce",
                             "mean binary cross entropy with logits (float Label in [0, 1])",
                             {"Logits", "Label"}, none, {"Out"}, SigmoidBce, PerInput(6)));
  COLONY_RETURN_IF_ERROR(
      Add(r, "layer_norm", "normalizes the last dim, then * Scale + Bias; attr epsilon",
          {"X", "Scale", "Bias"}, {"Scale", "Bias"}, {"Out"}, LayerNorm, PerOutput(8)));
  COLONY_RETURN_IF_ERROR(Add(r, "dropout",
                             "training only: zeroes with prob attr p, scales by 1/(1-p); seeded",
                             {"X"}, none, {"Out"}, Dropout, PerOutput(2)));
  COLONY_RETURN_IF_ERROR(Add(r, "gru_cell",
                             "one GRU step: X [B, I], H [B, Hd], Wx [I, 3Hd], Wh [Hd, 3Hd], Bx, Bh",
                             {"X", "H", "Wx", "Wh", "Bx", "Bh"}, {"Bx", "Bh"}, {"Out"}, GruCell,
                             [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d,
                                const IoSizes&) { return CellFlops(op, env, d, 3); }));
  COLONY_RETURN_IF_ERROR(Add(r, "lstm_cell",
                             "one LSTM step: X, H, C, Wx [I, 4Hd], Wh [Hd, 4Hd], B -> HOut, COut",
                             {"X", "H", "C", "Wx", "Wh", "B"}, {"B"}, {"HOut", "COut"}, LstmCell,
                             [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d,
                                const IoSizes&) { return CellFlops(op, env, d, 4); }));
  COLONY_RETURN_IF_ERROR(
      Add(r, "attention", "softmax(Q K^T / sqrt(D), masked by nonzero Mask) V",
          {"Q", "K", "V", "Mask"}, {"Mask"}, {"Out"}, Attention,
          [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d, const IoSizes& io) {
            StatusOr<VarShape> q = env.Get(FindInput(op, "Q")->vars(0));
            StatusOr<VarShape> k = env.Get(FindInput(op, "K")->vars(0));
            if (!q.ok() || !k.ok()) return 0.0;
            const double scores = Numel({q->dims[0], q->dims[1], k->dims[1]}, d);
            return 2 * scores * Numel({q->dims[2]}, d) + 5 * scores +
                   2 * io.out_elems * Numel({k->dims[1]}, d);
          }));
  COLONY_RETURN_IF_ERROR(Add(r, "gather", "X indexed by int64 Index [N] along attr axis",
                             {"X", "Index"}, none, {"Out"}, Gather, PerOutput(0)));
  COLONY_RETURN_IF_ERROR(Add(r, "scatter_add",
                             "X with Updates added at Index [N] along attr axis (index_add)",
                             {"X", "Index", "Updates"}, none, {"Out"}, ScatterAdd, PerInput(1)));
  COLONY_RETURN_IF_ERROR(Add(
      r, "sparse_adj_matmul",
      "A X for a sparse A given as Row, Col, Value [E] (COO): Out[Row[e]] += Value[e] X[Col[e]]",
      {"X", "Row", "Col", "Value"}, none, {"Out"}, SparseAdjMatmul,
      [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d, const IoSizes&) {
        StatusOr<VarShape> x = env.Get(FindInput(op, "X")->vars(0));
        StatusOr<VarShape> row = env.Get(FindInput(op, "Row")->vars(0));
        if (!x.ok() || !row.ok()) return 0.0;
        return 2 * Numel({row->dims[0], x->dims[1]}, d);
      }));
  COLONY_RETURN_IF_ERROR(Add(r, "segment_softmax",
                             "softmax of X [E] or [E, H] over the rows sharing a Segment id [E]",
                             {"X", "Segment"}, none, {"Out"}, SegmentSoftmax, PerOutput(6)));
  COLONY_RETURN_IF_ERROR(Add(
      r, "conv2d",
      "2-d convolution of X [N, C, H, W] by W [O, C, KH, KW] + B; strides, paddings, activation",
      {"X", "W", "B"}, {"B"}, {"Out"}, Conv2d,
      [](const OpDesc& op, const ShapeEnv& env, const DeviceProfile& d, const IoSizes& io) {
        StatusOr<VarShape> w = env.Get(FindInput(op, "W")->vars(0));
        if (!w.ok() || w->dims.size() != 4) return 0.0;
        return 2 * Numel({w->dims[1], w->dims[2], w->dims[3]}, d) * io.out_elems;
      }));
  COLONY_RETURN_IF_ERROR(Add(r, "pool2d",
                             "max or avg (attr pool) over attr kernel windows of X [N, C, H, W]; "
                             "strides (default: kernel), paddings",
                             {"X"}, none, {"Out"}, Pool2d, PerInput(1)));
  COLONY_RETURN_IF_ERROR(Add(r, "leaky_relu", "X where X > 0, else attr alpha (0.2) * X", {"X"},
                             none, {"Out"}, SameAsX, PerOutput(2)));
  // The cost here is only the op's own I/O; a planner adds T times the step block's cost.
  OpSchema recurrent =
      Make("recurrent",
           "runs sub-block attr block once per time step of X [B, T, ...]; rnn_start/rnn_end skip",
           {"X", "InitStates", "Params"}, {"InitStates", "Params"}, {"Out", "FinalStates"},
           Recurrent, PerOutput(0));
  recurrent.output_counts = [](const OpDesc& op) {
    StatusOr<std::vector<std::string>> outs = GetStringsAttr(op, "step_outputs", {});
    return std::vector<int>{outs.ok() ? static_cast<int>(outs->size()) : 0,
                            NumVars(op, "InitStates")};
  };
  COLONY_RETURN_IF_ERROR(r.Register(std::move(recurrent)));
  COLONY_RETURN_IF_ERROR(Add(r, "rnn_start",
                             "in a recurrent step block: opens a span that runs only for elements "
                             "whose Cond satisfies attr condition (nonzero / greater threshold)",
                             {"Cond"}, none, {"Valid"}, RnnStart, PerInput(1)));
  COLONY_RETURN_IF_ERROR(
      Add(r, "rnn_end", "closes an rnn_start span: Out = X where Valid, else Skip (pass-through)",
          {"X", "Skip", "Valid"}, none, {"Out"}, RnnEnd, PerOutput(1)));
  return OkStatus();
}

}  // namespace colony::graph

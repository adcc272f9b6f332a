#include "colony/ps/internal/rpc_convert.h"

namespace colony::ps::internal {

rpc::OptimizerConfig ToProto(const OptimizerOptions& o) {
  rpc::OptimizerConfig p;
  p.set_name(o.name);
  p.set_learning_rate(o.learning_rate);
  p.set_epsilon(o.epsilon);
  p.set_initial_accumulator(o.initial_accumulator);
  p.set_beta1(o.beta1);
  p.set_beta2(o.beta2);
  p.set_l1(o.l1);
  p.set_l2(o.l2);
  p.set_lr_power(o.lr_power);
  p.set_beta(o.beta);
  return p;
}

OptimizerOptions FromProto(const rpc::OptimizerConfig& p) {
  OptimizerOptions o;  // A field the client left unset keeps its documented default.
  if (p.has_name() && !p.name().empty()) o.name = p.name();
  if (p.has_learning_rate()) o.learning_rate = p.learning_rate();
  if (p.has_epsilon()) o.epsilon = p.epsilon();
  if (p.has_initial_accumulator()) o.initial_accumulator = p.initial_accumulator();
  if (p.has_beta1()) o.beta1 = p.beta1();
  if (p.has_beta2()) o.beta2 = p.beta2();
  if (p.has_l1()) o.l1 = p.l1();
  if (p.has_l2()) o.l2 = p.l2();
  if (p.has_lr_power()) o.lr_power = p.lr_power();
  if (p.has_beta()) o.beta = p.beta();
  return o;
}

rpc::InitializerConfig ToProto(const InitializerOptions& o) {
  rpc::InitializerConfig p;
  p.set_type(o.type);
  p.set_value(o.value);
  p.set_low(o.low);
  p.set_high(o.high);
  p.set_mean(o.mean);
  p.set_std(o.std);
  return p;
}

InitializerOptions FromProto(const rpc::InitializerConfig& p) {
  InitializerOptions o;  // As for the optimizer: unset fields keep their defaults.
  if (p.has_type() && !p.type().empty()) o.type = p.type();
  if (p.has_value()) o.value = p.value();
  if (p.has_low()) o.low = p.low();
  if (p.has_high()) o.high = p.high();
  if (p.has_mean()) o.mean = p.mean();
  if (p.has_std()) o.std = p.std();
  return o;
}

}  // namespace colony::ps::internal

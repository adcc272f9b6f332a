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
  OptimizerOptions o;
  o.name = p.name();
  o.learning_rate = p.learning_rate();
  o.epsilon = p.epsilon();
  o.initial_accumulator = p.initial_accumulator();
  o.beta1 = p.beta1();
  o.beta2 = p.beta2();
  o.l1 = p.l1();
  o.l2 = p.l2();
  o.lr_power = p.lr_power();
  o.beta = p.beta();
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
  InitializerOptions o;
  o.type = p.type();
  o.value = p.value();
  o.low = p.low();
  o.high = p.high();
  o.mean = p.mean();
  o.std = p.std();
  return o;
}

}  // namespace colony::ps::internal

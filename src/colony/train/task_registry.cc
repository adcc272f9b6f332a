#include "colony/train/task_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace colony::train {

TaskRegistry& TaskRegistry::Global() {
  static TaskRegistry* registry = new TaskRegistry();  // Never destroyed, as c10's.
  return *registry;
}

Status TaskRegistry::Register(TaskEntry entry) {
  for (const TaskEntry& e : entries_) {
    if (e.name == entry.name) {
      return AlreadyExistsError("model '" + entry.name + "' is registered twice");
    }
  }
  entries_.push_back(std::move(entry));
  return OkStatus();
}

StatusOr<const TaskEntry*> TaskRegistry::Find(const std::string& name) const {
  for (const TaskEntry& e : entries_) {
    if (e.name == name) return &e;
  }
  std::string known;
  for (const auto& [key, doc] : Keys()) known += (known.empty() ? "" : ", ") + key;
  return NotFoundError("model.name '" + name + "' is not a model colony trains; known: " + known);
}

std::vector<std::pair<std::string, std::string>> TaskRegistry::Keys() const {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const TaskEntry& e : entries_) keys.emplace_back(e.name, e.doc);
  std::sort(keys.begin(), keys.end());
  return keys;
}

TaskRegistration::TaskRegistration(const std::vector<std::pair<std::string, std::string>>& models,
                                   JobParser parse) {
  for (const auto& [name, doc] : models) {
    Status registered = TaskRegistry::Global().Register({name, doc, parse});
    if (!registered.ok()) {
      std::fprintf(stderr, "colony: %s\n", registered.ToString().c_str());
      std::abort();
    }
  }
}

StatusOr<Job> ParseJob(const Config& config) {
  std::string name = ModelName(config);
  if (name.empty()) name = kDefaultModel;
  StatusOr<const TaskEntry*> entry = TaskRegistry::Global().Find(name);
  if (!entry.ok()) {
    return entry.status().WithContext(config.Root().Section("model").Where("name"));
  }
  return (*entry)->parse(config);
}

}  // namespace colony::train

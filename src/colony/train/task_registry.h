// The tasks `colony train`, `colony launch` and `colony serve --role worker` can run, keyed by
// model.name, as PyTorch's c10 registers kernels: a task's .cc registers its model names with
// a static TaskRegistration, and ParseJob picks the entry of a config's model.name. colony's
// train library is linked whole-archive (src/colony/train/CMakeLists.txt), so a registration
// is never dropped by the linker.
//   // In my_task.cc:
//   const TaskRegistration kMyModel({{"my_model", "one line for help listings"}}, ParseMyJob);
//   // In a command:
//   COLONY_ASSIGN_OR_RETURN(Job job, ParseJob(config));
//   COLONY_ASSIGN_OR_RETURN(RunSummary s, RunLoop(job.options, *job.task));
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/train/job_options.h"
#include "colony/train/loop.h"

namespace colony::train {

// A job read from its config: the shared options and the task.
struct Job {
  JobOptions options;
  std::unique_ptr<Task> task;
};

// Reads a whole config (the shared sections with ReadJobSections, the task's own, then
// CheckAllKeysUsed) and validates it.
using JobParser = std::function<StatusOr<Job>(const Config& config)>;

struct TaskEntry {
  std::string name;  // A model.name.
  std::string doc;   // One line for help listings.
  JobParser parse;
};

// Thread safety: registration happens during static initialization; lookups after it.
class TaskRegistry {
 public:
  static TaskRegistry& Global();
  // AlreadyExists for a name registered before.
  Status Register(TaskEntry entry);
  // NotFound listing the known names.
  StatusOr<const TaskEntry*> Find(const std::string& name) const;
  // (name, doc), sorted by name.
  std::vector<std::pair<std::string, std::string>> Keys() const;

 private:
  std::vector<TaskEntry> entries_;
};

// Registers each (name, doc) of `models` with `parse` at static initialization; a duplicate
// name aborts the program with a message (a build error, not an input error).
class TaskRegistration {
 public:
  TaskRegistration(const std::vector<std::pair<std::string, std::string>>& models, JobParser parse);
};

// A config without model.name trains this model (a CTR DNN).
inline constexpr char kDefaultModel[] = "dnn";

// The job of `config`: its model.name's entry parses it. NotFound (listing the known model
// names, file and line) for an unknown model.name; the entry's errors otherwise.
StatusOr<Job> ParseJob(const Config& config);

}  // namespace colony::train

// Cuts a program at segmentation-point variables into pipeline sections (US20210216875A1).
// Section i holds block 0's ops after the op that writes cut var i-1, up to and including the
// op that writes cut var i; the last section ends with the program's last op and owns the
// loss. Each section is a program of its own that the executor runs unchanged.
//   COLONY_ASSIGN_OR_RETURN(std::vector<pipeline::Section> sections,
//                           pipeline::SplitProgram(program, {"fc_1.Out", "fc_3.Out"}));
#pragma once

#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/program.h"

namespace colony::pipeline {

struct Section {
  // Block 0 keeps only this section's ops; its feeds are `feeds` plus `received`; fetches are
  // `sent` plus the original fetches this section writes; loss is set on the last section only.
  // Sub-blocks are copied unchanged.
  graph::ProgramDesc program;
  std::vector<std::string> feeds;     // The original program's feeds that its ops read.
  std::vector<std::string> params;    // Persistable vars its ops read (owned by this section).
  std::vector<std::string> received;  // Vars from earlier sections, in name order.
  std::vector<std::string> sent;      // Vars later sections read (cut vars and pass-throughs).
  int first_op = 0;                   // Index of its first op in the original block 0.
  int num_ops = 0;
};

// Splits `program` (which must Validate) at `cut_vars` into cut_vars.size() + 1 sections.
// A var written before cut k and read after it is passed along through every section in
// between (received and sent unchanged). InvalidArgument naming the var for: an unknown var;
// a feed or parameter; a var no op of block 0 writes; cuts not in strictly increasing op
// order; a cut var no later op reads (the cut does not separate the graph); a cut after the
// op writing the loss; a parameter read on both sides of a cut (tied weights).
StatusOr<std::vector<Section>> SplitProgram(const graph::ProgramDesc& program,
                                            const std::vector<std::string>& cut_vars);

}  // namespace colony::pipeline

// Writes the binary seeds of the fuzz corpus from today's file formats and request messages:
//   build-fuzz/tests/fuzz/colony_fuzz_seeds tests/fuzz/corpus
// Run it again when a checkpoint or index format changes. The text seeds (data lines,
// configs) are kept by hand.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "colony/base/file_util.h"
#include "colony/ps.pb.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/sparse_table.h"
#include "colony/retrieval/tree_index.h"
#include "colony/retrieval/vector_file.h"

namespace colony {
namespace {

namespace fs = std::filesystem;
namespace rpc = ::colony::ps::rpc;

void Check(const Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "colony_fuzz_seeds: %s\n", status.ToString().c_str());
    std::exit(1);
  }
}

void Write(const fs::path& dir, const std::string& name, char selector, const std::string& bytes) {
  fs::create_directories(dir);
  // The first byte selects the fuzz target's mode; the file follows.
  Check(WriteFileAtomic((dir / name).string(), selector + bytes));
}

// The payload of a table file: without its format line and its CRC-32.
std::string Payload(const std::string& file) {
  const size_t newline = file.find('\n');
  return file.substr(newline + 1, file.size() - newline - 1 - 4);
}

void TableSeeds(const fs::path& out, const fs::path& scratch) {
  ps::SparseTableOptions o;
  o.dim = 4;
  auto sparse = ps::SparseTable::Create(o);
  Check(sparse.status());
  const uint64_t ids[] = {1, 2, 3};
  std::vector<float> rows(12);
  Check((*sparse)->Pull({}, ids, rows));
  Check((*sparse)->Save(scratch.string()));
  const std::string sparse_file = ReadFile((scratch / "table.bin").string()).value();
  Write(out, "sparse_checked", '\x01', Payload(sparse_file));
  Write(out, "tiered_checked", '\x05', Payload(sparse_file));
  Write(out, "sparse_raw", '\x00', sparse_file);
  auto dense = ps::DenseTable::Create({.size = 6});
  Check(dense.status());
  Check((*dense)->Init(std::vector<float>{1, 2, 3, 4, 5, 6}));
  Check((*dense)->Save(scratch.string(), "w"));
  const std::string dense_file = ReadFile((scratch / "w.bin").string()).value();
  Write(out, "dense_checked", '\x03', Payload(dense_file));
  Write(out, "dense_raw", '\x02', dense_file);
}

void IndexSeeds(const fs::path& out, const fs::path& scratch) {
  retrieval::VectorSet items{.n = 40, .dim = 4, .data = {}};
  for (int i = 0; i < 40 * 4; ++i) items.data.push_back(static_cast<float>((i * 37) % 11) / 11);
  auto index = retrieval::TreeIndex::Build({.num_trees = 2}, items);
  Check(index.status());
  Check((*index)->Save(scratch.string()));
  fs::create_directories(out);
  fs::copy_file(scratch / "index.bin", out / "two_trees", fs::copy_options::overwrite_existing);
  Check((*index)->Remove(3));
  const std::vector<float> v = {0.5f, 0.5f, 0.5f, 0.5f};
  Check((*index)->Insert(100, v));
  Check((*index)->Save(scratch.string()));
  fs::copy_file(scratch / "index.bin", out / "updated", fs::copy_options::overwrite_existing);
}

void VectorSeeds(const fs::path& out, const fs::path& scratch) {
  retrieval::VectorSet set{.n = 2, .dim = 3, .data = {1, 2, 3, 4, 5, 6}};
  Check(retrieval::WriteFvecs((scratch / "v.fvecs").string(), set));
  const std::string fvecs = ReadFile((scratch / "v.fvecs").string()).value();
  Write(out, "fvecs", '\x00', fvecs);
  Write(out, "ivecs", '\x01', fvecs);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.resize(64 - 10 - 1, ' ');
  header += '\n';
  std::string npy = std::string("\x93NUMPY\x01\x00", 8) + char(header.size()) + '\0' + header;
  npy.append(reinterpret_cast<const char*>(set.data.data()), 4 * set.data.size());
  Write(out, "npy", '\x02', npy);
  Write(out, "csv", '\x03', "1,2,3\n4.5,5,6e-1\n");
  std::string idx("\0\0\x08\x02\0\0\0\x02\0\0\0\x03", 12);
  idx += std::string("\x01\x02\x03\x04\x05\x06", 6);
  Write(out, "idx", '\x04', idx);
}

// Method numbers follow ps_service_fuzz.cc's switch.
void RequestSeeds(const fs::path& out) {
  rpc::CreateTableRequest sparse;
  sparse.set_table("emb");
  sparse.set_sparse(true);
  sparse.set_dim(4);
  sparse.mutable_optimizer()->set_name("adagrad");
  Write(out, "create_sparse", '\x00', sparse.SerializeAsString());
  rpc::CreateTableRequest tiered = sparse;
  tiered.set_table("tiered");
  tiered.set_memory_rows(2);
  tiered.set_admit_count(2);
  tiered.set_ttl_passes(1);
  Write(out, "create_tiered", '\x00', tiered.SerializeAsString());
  rpc::CreateTableRequest dense;
  dense.set_table("w");
  dense.set_size(8);
  dense.mutable_optimizer()->set_name("ftrl");
  Write(out, "create_dense", '\x00', dense.SerializeAsString());
  rpc::PullRequest pull;
  pull.set_table("emb");
  for (uint64_t id : {1, 2, 3}) pull.add_ids(id);
  pull.set_create_missing(true);
  Write(out, "pull", '\x01', pull.SerializeAsString());
  rpc::PushRequest push;
  push.set_table("emb");
  for (uint64_t id : {1, 2, 3}) push.add_ids(id);
  push.set_grads(std::string(4 * 12, '\x01'));
  Write(out, "push", '\x02', push.SerializeAsString());
  rpc::PushRequest sync = push;
  sync.set_sync_workers(1);
  sync.set_step(1);
  Write(out, "push_sync", '\x02', sync.SerializeAsString());
  rpc::PullManyRequest pull_many;
  pull_many.add_tables()->set_table("w");
  Write(out, "pull_many", '\x03', pull_many.SerializeAsString());
  rpc::PushManyRequest push_many;
  rpc::PushRequest* assign = push_many.add_tables();
  assign->set_table("w");
  assign->set_grads(std::string(4 * 8, '\x02'));
  assign->set_assign(true);
  Write(out, "push_many", '\x04', push_many.SerializeAsString());
  Write(out, "stats", '\x05', rpc::StatsRequest().SerializeAsString());
  rpc::BarrierRequest barrier;
  barrier.set_name("b");
  barrier.set_workers(1);
  barrier.set_timeout_ms(10);
  Write(out, "barrier", '\x06', barrier.SerializeAsString());
  rpc::EndPassRequest end_pass;
  end_pass.set_table("tiered");
  Write(out, "end_pass", '\x07', end_pass.SerializeAsString());
  Write(out, "health", '\x08', rpc::HealthRequest().SerializeAsString());
}

}  // namespace
}  // namespace colony

int main(int argc, char** argv) {
  using namespace colony;
  if (argc != 2) {
    std::fprintf(stderr, "usage: colony_fuzz_seeds CORPUS_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path scratch = fs::temp_directory_path() / ("colony_fuzz_seeds_" +
                                                        std::to_string(::getpid()));
  fs::create_directories(scratch);
  TableSeeds(out / "table_file_fuzz", scratch);
  IndexSeeds(out / "index_file_fuzz", scratch);
  VectorSeeds(out / "vector_file_fuzz", scratch);
  RequestSeeds(out / "ps_service_fuzz");
  fs::remove_all(scratch);
  return 0;
}

// Session data for next-item recommendation: session files (one session of item ids a line),
// prefix augmentation into (prefix, next item) samples, and the standard preprocessing of raw
// click logs in the Diginetica and YOOCHOOSE layouts.
//   COLONY_ASSIGN_OR_RETURN(SessionFile train, ReadSessionFile("data/sessions/train.txt"));
//   std::vector<SessionSample> samples = PrefixSamples(train.sessions);
//   SessionLogOptions o;  o.format = "diginetica";  o.log_file = "train-item-views.csv";
//   o.out_dir = "data/digi";  COLONY_ASSIGN_OR_RETURN(SessionLogStats s, PreprocessSessionLog(o));
// Formats are described in docs/session.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::data {

// Item ids are 1..num_items; 0 is reserved for padding.
using Session = std::vector<int64_t>;

struct SessionFile {
  std::vector<Session> sessions;             // Sessions of length >= 2, in file order.
  int64_t max_item = 0;                      // The largest item id seen.
  int64_t bad_lines = 0;                     // Lines skipped: not integers, or an id <= 0.
  int64_t short_lines = 0;                   // Lines skipped for holding fewer than two items.
  std::vector<std::string> first_bad_lines;  // "file:line: reason" of the first few.
};

// Reads a session file: one session a line, item ids (integers >= 1) separated by spaces,
// tabs or commas; empty lines and lines starting with '#' are ignored. Bad lines are counted
// and skipped. NotFound when the file cannot be opened.
StatusOr<SessionFile> ReadSessionFile(const std::string& path);

// One training or test sample: the first `prefix` items of session `session` predict item
// number `prefix` (0-based), i.e. the next click.
struct SessionSample {
  int32_t session = 0;
  int32_t prefix = 0;  // >= 1.
};

// Prefix augmentation: every session [i1, .., in] gives the samples [i1] -> i2,
// [i1, i2] -> i3, .., [i1 .. in-1] -> in, in session order.
std::vector<SessionSample> PrefixSamples(const std::vector<Session>& sessions);

struct SessionLogOptions {
  // "diginetica": train-item-views.csv, ';'-separated with a header,
  //   sessionId;userId;itemId;timeframe;eventdate (eventdate YYYY-MM-DD, timeframe ms).
  // "yoochoose": yoochoose-clicks.dat, ',' separated, no header,
  //   session_id,timestamp,item_id,category (timestamp YYYY-MM-DDTHH:MM:SS.sssZ).
  std::string format = "diginetica";
  std::string log_file;        // The raw log. Required.
  std::string out_dir;         // Gets train.txt, test.txt and items.tsv. Required.
  int min_item_count = 5;      // Items clicked fewer times are dropped. Default: 5.
  int min_session_length = 2;  // Shorter sessions are dropped. Default: 2.
  // Sessions whose last click is within this many days of the log's last click form the test
  // split; 0 takes the format's usual split (diginetica 7, yoochoose 1). Default: 0.
  double test_days = 0;
  Status Validate() const;  // InvalidArgument naming the bad field.
};

struct SessionLogStats {
  int64_t lines = 0;      // Data lines read (not counting a header).
  int64_t bad_lines = 0;  // Lines skipped as malformed.
  std::vector<std::string> first_bad_lines;
  int64_t train_sessions = 0, test_sessions = 0;
  int64_t items = 0;  // Distinct items kept (ids 1..items).
};

// Standard preprocessing (as in the SR-GNN paper's scripts): clicks are grouped by session and
// ordered by time; sessions of length 1 are dropped, then items seen fewer than
// min_item_count times, then sessions left shorter than min_session_length; the sessions that
// end in the last test_days days are the test split; test clicks on items absent from train
// are dropped (and test sessions that become too short). Items are renumbered 1..N in order of
// first appearance in train; items.tsv maps each new id to the raw one. Writes train.txt and
// test.txt in the session-file format. InvalidArgument for bad options or a log without any
// valid line, NotFound for a missing log, Unavailable when an output cannot be written.
StatusOr<SessionLogStats> PreprocessSessionLog(const SessionLogOptions& options);

}  // namespace colony::data

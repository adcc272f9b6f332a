#include "colony/data/session_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <unordered_map>

#include "colony/base/file_util.h"
#include "colony/base/logging.h"

namespace colony::data {
namespace {

constexpr size_t kMaxBadLinesKept = 10;

void NoteBad(const std::string& where, const std::string& reason, std::vector<std::string>& first) {
  if (first.size() < kMaxBadLinesKept) first.push_back(where + ": " + reason);
}

bool ParseInt(std::string_view s, int64_t* out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> SplitOn(std::string_view line, char sep) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t pos = line.find(sep, start);
    fields.push_back(line.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return fields;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "YYYY-MM-DD" -> days since the epoch.
bool ParseDate(std::string_view s, int64_t* days) {
  int64_t y = 0, m = 0, d = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !ParseInt(s.substr(0, 4), &y) ||
      !ParseInt(s.substr(5, 2), &m) || !ParseInt(s.substr(8, 2), &d) || m < 1 || m > 12 || d < 1 ||
      d > 31) {
    return false;
  }
  *days = DaysFromCivil(y, m, d);
  return true;
}

// "YYYY-MM-DDTHH:MM:SS[.sss]Z" -> seconds since the epoch (fraction dropped).
bool ParseTimestamp(std::string_view s, double* seconds) {
  int64_t days = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 19 || s[10] != 'T' || !ParseDate(s.substr(0, 10), &days) ||
      !ParseInt(s.substr(11, 2), &h) || !ParseInt(s.substr(14, 2), &mi) ||
      !ParseInt(s.substr(17, 2), &sec) || h > 23 || mi > 59 || sec > 60) {
    return false;
  }
  *seconds = static_cast<double>(days * 86400 + h * 3600 + mi * 60 + sec);
  return true;
}

struct Click {
  double time;
  int64_t order;  // Line number, to keep equal times in file order.
  int64_t item;
};

Status WriteSessions(const std::string& path, const std::vector<Session>& sessions) {
  std::string text;
  for (const Session& s : sessions) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (i) text += ' ';
      text += std::to_string(s[i]);
    }
    text += '\n';
  }
  return WriteFileAtomic(path, text);
}

}  // namespace

StatusOr<SessionFile> ReadSessionFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open session file '" + path + "'");
  SessionFile file;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    Session session;
    std::string reason;
    size_t pos = first;
    while (pos < line.size()) {
      const size_t end = line.find_first_of(" \t,", pos);
      const std::string_view token =
          std::string_view(line).substr(pos, end == std::string::npos ? end : end - pos);
      pos = end == std::string::npos ? line.size() : end + 1;
      if (token.empty()) continue;
      int64_t item = 0;
      if (!ParseInt(token, &item)) {
        reason = "item '" + std::string(token) + "' is not an integer";
        break;
      }
      if (item <= 0) {
        reason = "item id " + std::to_string(item) + " must be >= 1 (0 is padding)";
        break;
      }
      session.push_back(item);
    }
    const std::string where = path + ":" + std::to_string(line_no);
    if (!reason.empty()) {
      ++file.bad_lines;
      NoteBad(where, reason, file.first_bad_lines);
      continue;
    }
    if (session.size() < 2) {
      ++file.short_lines;
      continue;
    }
    file.max_item = std::max(file.max_item, *std::max_element(session.begin(), session.end()));
    file.sessions.push_back(std::move(session));
  }
  return file;
}

std::vector<SessionSample> PrefixSamples(const std::vector<Session>& sessions) {
  std::vector<SessionSample> samples;
  for (size_t s = 0; s < sessions.size(); ++s) {
    for (size_t p = 1; p < sessions[s].size(); ++p) {
      samples.push_back({static_cast<int32_t>(s), static_cast<int32_t>(p)});
    }
  }
  return samples;
}

Status SessionLogOptions::Validate() const {
  if (format != "diginetica" && format != "yoochoose") {
    return InvalidArgumentError("session log format must be 'diginetica' or 'yoochoose', got '" +
                                format + "'");
  }
  if (log_file.empty()) return InvalidArgumentError("the session log file is required");
  if (out_dir.empty()) return InvalidArgumentError("the output folder is required");
  if (min_item_count < 1) {
    return InvalidArgumentError("min_item_count must be >= 1, got " +
                                std::to_string(min_item_count));
  }
  if (min_session_length < 2) {
    return InvalidArgumentError("min_session_length must be >= 2, got " +
                                std::to_string(min_session_length));
  }
  if (test_days < 0) {
    return InvalidArgumentError("test_days must be >= 0, got " + fmt::format("{}", test_days));
  }
  return OkStatus();
}

StatusOr<SessionLogStats> PreprocessSessionLog(const SessionLogOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  std::ifstream in(o.log_file, std::ios::binary);
  if (!in) return NotFoundError("cannot open session log '" + o.log_file + "'");
  const bool digi = o.format == "diginetica";
  SessionLogStats stats;
  // Raw session id -> its clicks; std::map keeps the output order independent of hashing.
  std::map<int64_t, std::vector<Click>> by_session;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (digi && line_no == 1 && line.rfind("sessionId", 0) == 0) continue;  // The header.
    ++stats.lines;
    const std::vector<std::string_view> f = SplitOn(line, digi ? ';' : ',');
    const std::string where = o.log_file + ":" + std::to_string(line_no);
    auto bad = [&](const std::string& reason) {
      ++stats.bad_lines;
      NoteBad(where, reason, stats.first_bad_lines);
    };
    const size_t want = digi ? 5 : 4;
    if (f.size() != want) {
      bad(fmt::format("{} fields, expected {} ({})", f.size(), want,
                      digi ? "sessionId;userId;itemId;timeframe;eventdate"
                           : "session_id,timestamp,item_id,category"));
      continue;
    }
    int64_t session = 0, item = 0;
    if (!ParseInt(f[0], &session)) {
      bad("session id '" + std::string(f[0]) + "' is not an integer");
      continue;
    }
    if (!ParseInt(f[2], &item)) {
      bad("item id '" + std::string(f[2]) + "' is not an integer");
      continue;
    }
    double time = 0;
    if (digi) {
      int64_t days = 0, frame = 0;
      if (!ParseDate(f[4], &days)) {
        bad("eventdate '" + std::string(f[4]) + "' is not YYYY-MM-DD");
        continue;
      }
      if (!ParseInt(f[3], &frame)) {
        bad("timeframe '" + std::string(f[3]) + "' is not an integer");
        continue;
      }
      time = static_cast<double>(days) * 86400 + static_cast<double>(frame) / 1000;
    } else if (!ParseTimestamp(f[1], &time)) {
      bad("timestamp '" + std::string(f[1]) + "' is not YYYY-MM-DDTHH:MM:SS.sssZ");
      continue;
    }
    by_session[session].push_back({time, line_no, item});
  }
  if (by_session.empty()) {
    return InvalidArgumentError(
        fmt::format("session log '{}' has no valid {} line ({} lines, {} bad{})", o.log_file,
                    o.format, stats.lines, stats.bad_lines,
                    stats.first_bad_lines.empty() ? "" : "; first: " + stats.first_bad_lines[0]));
  }

  // Order clicks, drop length-1 sessions, count items.
  struct Timed {
    double end;
    Session items;
  };
  std::vector<Timed> sessions;
  std::unordered_map<int64_t, int64_t> counts;
  for (auto& [id, clicks] : by_session) {
    if (clicks.size() < 2) continue;
    std::sort(clicks.begin(), clicks.end(), [](const Click& a, const Click& b) {
      return a.time != b.time ? a.time < b.time : a.order < b.order;
    });
    Timed t{clicks.back().time, {}};
    for (const Click& c : clicks) {
      t.items.push_back(c.item);
      ++counts[c.item];
    }
    sessions.push_back(std::move(t));
  }
  // Drop rare items, then sessions left too short.
  double last_time = 0;
  std::vector<Timed> kept;
  for (Timed& t : sessions) {
    Session s;
    for (int64_t item : t.items) {
      if (counts[item] >= o.min_item_count) s.push_back(item);
    }
    if (static_cast<int>(s.size()) < o.min_session_length) continue;
    last_time = std::max(last_time, t.end);
    kept.push_back({t.end, std::move(s)});
  }
  const double days = o.test_days > 0 ? o.test_days : (digi ? 7.0 : 1.0);
  const double split = last_time - days * 86400;
  std::unordered_map<int64_t, int64_t> new_id;
  std::vector<int64_t> raw_of;  // new id - 1 -> raw id
  std::vector<Session> train, test;
  for (const Timed& t : kept) {
    if (t.end > split) continue;
    Session s;
    for (int64_t item : t.items) {
      auto [it, inserted] = new_id.emplace(item, static_cast<int64_t>(raw_of.size()) + 1);
      if (inserted) raw_of.push_back(item);
      s.push_back(it->second);
    }
    train.push_back(std::move(s));
  }
  for (const Timed& t : kept) {
    if (t.end <= split) continue;
    Session s;
    for (int64_t item : t.items) {
      auto it = new_id.find(item);
      if (it != new_id.end()) s.push_back(it->second);
    }
    if (static_cast<int>(s.size()) >= o.min_session_length) test.push_back(std::move(s));
  }
  if (train.empty()) {
    return InvalidArgumentError(fmt::format(
        "session log '{}': no training session is left after preprocessing ({} sessions of "
        "length >= {} with items seen >= {} times); lower min_item_count or test_days",
        o.log_file, kept.size(), o.min_session_length, o.min_item_count));
  }
  COLONY_RETURN_IF_ERROR(MakeDirs(o.out_dir));
  COLONY_RETURN_IF_ERROR(WriteSessions(o.out_dir + "/train.txt", train));
  COLONY_RETURN_IF_ERROR(WriteSessions(o.out_dir + "/test.txt", test));
  std::string items = "# item\traw_id\n";
  for (size_t i = 0; i < raw_of.size(); ++i) items += fmt::format("{}\t{}\n", i + 1, raw_of[i]);
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(o.out_dir + "/items.tsv", items));
  stats.train_sessions = static_cast<int64_t>(train.size());
  stats.test_sessions = static_cast<int64_t>(test.size());
  stats.items = static_cast<int64_t>(raw_of.size());
  COLONY_LOG_INFO("{}: {} lines ({} bad), {} train / {} test sessions, {} items", o.log_file,
                  stats.lines, stats.bad_lines, stats.train_sessions, stats.test_sessions,
                  stats.items);
  return stats;
}

}  // namespace colony::data

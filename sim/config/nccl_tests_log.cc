#include "sim/config/nccl_tests_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

#include "sim/config/yaml_fields.h"

namespace collsim::config {

namespace {

struct Token {
  std::string_view text;
  int column = 0;  // 1-based, in the line as written
};

std::vector<Token> split(std::string_view line, std::size_t from) {
  std::vector<Token> out;
  std::size_t i = from;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(Token{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<long long> whole(std::string_view s) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> number(std::string_view s) {
  // What nccl-tests prints (src/util.cu getFloatStr): 121.8, 47535, 1.2e+06.
  if (s.empty() || s.size() > 40) return std::nullopt;
  const std::string copy(s);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !(v >= 0) || v > 1e300) return std::nullopt;
  return v;
}

// Where a launcher's tag ends: mpirun --tag-output's "[1,0]<stdout>:",
// a bracketed rank "[0]", srun --label's "0: ". 0 when untagged.
std::size_t after_tag(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i < line.size() && line[i] == '[') {
    const std::size_t close = line.find(']', i);
    if (close == std::string_view::npos) return 0;
    std::size_t j = close + 1;
    for (std::string_view suffix : {"<stdout>:", "<stderr>:", ":"}) {
      if (line.substr(j, suffix.size()) == suffix) {
        j += suffix.size();
        break;
      }
    }
    return j;
  }
  std::size_t j = i;
  while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
  if (j > i && j + 1 < line.size() && line[j] == ':' && line[j + 1] == ' ') return j + 1;
  return 0;
}

// "2.29.2" from nccl-tests' NCCL_VERSION_CODE form (22902: major x 10000 +
// minor x 100 + patch, NCCL 2.9 and later).
std::string release_of_code(long long code) {
  if (code < 20900 || code > 99999) return "";
  return fmt::format("{}.{}.{}", code / 10000, code / 100 % 100, code % 100);
}

// An NCCL setting an INFO line reports: "NCCL_BUFFSIZE set by environment
// to 16777216." (NCCL_PARAM's, src/misc/param.cc; NCCL_ALGO's and
// NCCL_PROTO's without the '.'), or "Comm config minCTAs reset to
// NCCL_MIN_CTAS=24" (src/init.cc, as NCCL_MAX_CTAS). `column`: the value's.
struct InfoSetting {
  std::string_view name, value;
  int column = 0;
};
std::optional<InfoSetting> nccl_setting(std::string_view line) {
  const auto word_before = [&](std::size_t end) {
    std::size_t start = end;
    while (start > 0 && !std::isspace(static_cast<unsigned char>(line[start - 1]))) --start;
    return line.substr(start, end - start);
  };
  const auto value_at = [&](std::size_t from) -> std::optional<std::pair<std::string_view, int>> {
    const auto words = split(line, from);
    if (words.empty()) return std::nullopt;
    std::string_view v = words.front().text;
    if (v.size() > 1 && v.back() == '.') v.remove_suffix(1);
    return std::pair{v, words.front().column};
  };
  constexpr std::string_view kSet = " set by environment to ";
  if (const auto at = line.find(kSet); at != std::string_view::npos) {
    const std::string_view name = word_before(at);
    auto value = value_at(at + kSet.size());
    if (name.rfind("NCCL_", 0) != 0 || !value) return std::nullopt;
    return InfoSetting{name, value->first, value->second};
  }
  constexpr std::string_view kReset = " reset to NCCL_";
  if (line.find("Comm config ") == std::string_view::npos) return std::nullopt;
  if (const auto at = line.find(kReset); at != std::string_view::npos) {
    const std::size_t from = at + kReset.size() - 5;  // "NCCL_..."
    const std::size_t eq = line.find('=', from);
    if (eq == std::string_view::npos) return std::nullopt;
    auto value = value_at(eq + 1);
    if (!value || value->second != static_cast<int>(eq) + 2) return std::nullopt;
    return InfoSetting{line.substr(from, eq - from), value->first, value->second};
  }
  return std::nullopt;
}

}  // namespace

Expected<NcclTestsLog> parse_nccl_tests_log(const std::string& text, const std::string& file) {
  NcclTestsLog log;
  const FileName name(file);
  auto error_at = [&](int line, int column, std::string message) {
    return Error{std::move(message), "", SourceMark{name, line, column}};
  };
  struct RankLine {
    std::string host;
    int line = 0;
  };
  std::map<long long, RankLine> ranks;
  std::map<double, int> size_line;  // size -> its row's line
  std::set<long long> groups;       // of the '# Rank' lines
  std::string nccl_debug_release;   // from NCCL's own "NCCL version" line
  // The columns before the out-of-place time, from the last column header
  // ("#  size  count  type  redop  root  time ..."): each nccl-tests release
  // and test prints its own (before 2.13 all_gather has neither redop nor
  // root, broadcast a root only).
  bool header = false, redop_column = false, root_column = false;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.remove_prefix(3);  // a UTF-8 byte order mark
    // NCCL's own INFO lines (NCCL_DEBUG=INFO).
    if (nccl_debug_release.empty()) {
      constexpr std::string_view kVersion = "NCCL version ";
      if (const auto at = line.find(kVersion); at != std::string_view::npos) {
        const auto rest = split(line, at + kVersion.size());
        if (!rest.empty()) nccl_debug_release = std::string(rest.front().text.substr(0, rest.front().text.find('+')));
      }
    }
    if (line.find("NCCL INFO ") != std::string_view::npos) {
      if (auto setting = nccl_setting(line)) {
        auto seen = std::find_if(log.nccl_settings.begin(), log.nccl_settings.end(),
                                 [&](const auto& s) { return s.name == setting->name; });
        if (seen == log.nccl_settings.end()) {
          log.nccl_settings.push_back({std::string(setting->name),
                                       std::string(setting->value),
                                       SourceMark{name, line_no, setting->column},
                                       "",
                                       {}});
        } else if (seen->value != setting->value && seen->other_value.empty()) {
          seen->other_value = std::string(setting->value);
          seen->other_at = SourceMark{name, line_no, setting->column};
        }
      }
    }
    const auto tokens = split(line, after_tag(line));
    if (tokens.empty()) continue;
    if (tokens.front().text.front() == '#') {
      // Header lines: "#" may stand alone or lead the first word.
      std::vector<Token> words = tokens;
      if (words.front().text == "#") {
        words.erase(words.begin());
      } else {
        words.front().text.remove_prefix(1);
      }
      if (words.empty()) continue;
      const auto text_of = [&](std::size_t i) { return i < words.size() ? words[i].text : std::string_view(); };
      for (std::size_t i = 0; i < words.size(); ++i) {
        if (words[i].text.substr(0, 13) == "nccl-library=") {
          if (auto code = whole(words[i].text.substr(13))) log.nccl = release_of_code(*code);
        }
        if (words[i].text == "iters:" && i > 0 && text_of(i - 1) != "warmup" && text_of(i - 1) != "agg") {
          if (auto n = whole(text_of(i + 1)); n && *n > 0 && *n < (1LL << 30)) log.iters = static_cast<int>(*n);
        }
      }
      if (text_of(0) == "Collective" && text_of(1) == "test" && text_of(2) == "starting:")
        log.binary = std::string(text_of(3));
      // -z 1 and 3 (and before 2.17 -z 1): one collective's time per iteration.
      if (text_of(0) == "Blocking" && text_of(1) == "Enabled:" && line.find("barrier after each") != std::string::npos)
        log.blocking = true;
      if (text_of(0) == "size" && text_of(1) == "count" && text_of(2) == "type") {
        header = true;
        redop_column = root_column = false;
        log.header = true;
        for (std::size_t i = 3; i < words.size(); ++i) {
          if (words[i].text == "cputime") {
            return error_at(line_no, words[i].column,
                            "expected nccl-tests' GPU times, found its CPU times ('cputime': nccl-tests -C 1), which "
                            "collsim does not model");
          }
          if (words[i].text == "time") break;
          redop_column |= words[i].text == "redop";
          root_column |= words[i].text == "root";
        }
      }
      if (text_of(0) == "Rank" && digits(text_of(1))) {
        // Rank r [Group g] Pid p on HOST device d [bus] NAME
        std::size_t on = 2;
        while (on < words.size() && words[on].text != "on") ++on;
        if (on + 1 >= words.size())
          return error_at(line_no, words[1].column,
                          "expected '# Rank N ... on HOST device D [BUS] GPU', found no host");
        const auto rank = whole(words[1].text);
        if (!rank || *rank >= (1 << 24)) return error_at(line_no, words[1].column, "expected a rank below 16777216");
        if (text_of(2) == "Group") {
          if (auto group = whole(text_of(3))) groups.insert(*group);
        }
        if (auto [it, fresh] = ranks.emplace(*rank, RankLine{std::string(words[on + 1].text), line_no}); !fresh) {
          return error_at(line_no, words[1].column,
                          fmt::format("rank {} is listed twice (lines {} and {})", *rank, it->second.line, line_no));
        }
        if (*rank == 0 || log.device.empty()) {
          std::size_t bus = on + 2;
          while (bus < words.size() && words[bus].text.front() != '[') ++bus;
          if (bus + 1 < words.size()) {
            const std::size_t start = static_cast<std::size_t>(words[bus + 1].column - 1);
            log.device = std::string(line.substr(start));
            while (!log.device.empty() && std::isspace(static_cast<unsigned char>(log.device.back())))
              log.device.pop_back();
          }
        }
      }
      continue;
    }
    // A result row starts with two whole numbers (size, count); anything
    // else (NCCL's INFO lines, a launcher's chatter) is not nccl-tests'.
    if (tokens.size() < 2 || !digits(tokens[0].text) || !digits(tokens[1].text)) continue;
    NcclTestsRow row;
    row.at = SourceMark{name, line_no, tokens[0].column};
    auto size = whole(tokens[0].text);
    if (!size)
      return error_at(line_no, tokens[0].column, fmt::format("expected a size in bytes, found '{}'", tokens[0].text));
    std::size_t at = 3;  // past size, count, type
    auto row_error = [&](std::size_t i, std::string_view what) {
      const Token& t = i < tokens.size() ? tokens[i] : tokens.back();
      return error_at(line_no, t.column,
                      fmt::format("expected {}, found {}", what,
                                  i < tokens.size() ? fmt::format("'{}'", t.text)
                                                    : fmt::format("the row's end ({} columns)", tokens.size())));
    };
    if (tokens.size() < 6) return row_error(tokens.size(), "an nccl-tests result row: size, count, type, then times");
    row.type = tokens[2].text;
    row.type_column = tokens[2].column;
    // A reduction is a word; 2.13.0-2.13.3 leave it blank for the ops that reduce nothing.
    const bool word = !number(tokens[3].text) && tokens[3].text != "-1";
    if ((header ? redop_column : true) && word) {
      row.redop_column = tokens[at].column;
      row.redop = tokens[at++].text;
    }
    // Without a header: a root where a whole number is followed by the
    // eight out-of-place and in-place columns (the old formats' rows end
    // with their eighth), or is -1 (no time is).
    const bool root = header
                          ? root_column
                          : whole(tokens[at].text).has_value() && (tokens.size() >= at + 9 || tokens[at].text == "-1");
    if (root) {
      auto r = whole(tokens[at].text);
      if (!r || *r < -1 || *r >= (1 << 24)) return row_error(at, "a root rank (-1: none)");
      row.root = static_cast<int>(*r);
      row.root_column = tokens[at++].column;
    }
    const char* names[3] = {"the out-of-place time (us)", "the out-of-place algbw (GB/s)",
                            "the out-of-place busbw (GB/s)"};
    double* into[3] = {&row.time_us, &row.algbw_GBps, &row.busbw_GBps};
    for (int k = 0; k < 3; ++k) {
      const std::size_t i = at + static_cast<std::size_t>(k);
      auto v = i < tokens.size() ? number(tokens[i].text) : std::nullopt;
      if (!v) return row_error(i, fmt::format("{}, a number of 0 or more", names[k]));
      *into[k] = *v;
    }
    // nccl-tests prints rows of 0 bytes where a size rounds down to none per rank.
    if (*size == 0) {
      ++log.empty_rows;
      continue;
    }
    row.bytes = static_cast<double>(*size);
    if (!(row.time_us > 0)) return row_error(at, "the out-of-place time (us) above 0");
    if (!log.rows.empty()) {
      const NcclTestsRow& a = log.rows.front();
      if (a.type != row.type || a.redop != row.redop || a.root != row.root) {
        return error_at(line_no, tokens[2].column,
                        fmt::format("expected the rows of one run (one nccl-tests -d type, -o reduction and -r "
                                    "root): line {} has {} {} root {}, this one {} {} root {}",
                                    a.at.line, a.type, a.redop.empty() ? "-" : a.redop, a.root, row.type,
                                    row.redop.empty() ? "-" : row.redop, row.root));
      }
    }
    if (auto [it, fresh] = size_line.emplace(row.bytes, line_no); !fresh) {
      return error_at(line_no, tokens[0].column,
                      fmt::format("size {} appears again (first at line {}): expected one run per log (nccl-tests "
                                  "-N 1, one -d type, -o reduction and -r root)",
                                  *size, it->second));
    }
    log.rows.push_back(std::move(row));
  }
  if (log.rows.empty()) {
    return Error{fmt::format("{}: expected nccl-tests result rows (size, count, type, redop, root, time, algbw, "
                             "busbw, ... as all_reduce_perf prints them), found none{}",
                             file, log.empty_rows > 0 ? " of more than 0 bytes" : ""),
                 "",
                 {}};
  }
  long long expected = 0;
  for (const auto& [rank, where] : ranks) {
    if (rank != expected) {
      return error_at(
          where.line, 1,
          fmt::format("expected '# Rank {}' next, found rank {}: the rank lines skip a rank", expected, rank));
    }
    log.rank_hosts.push_back(where.host);
    ++expected;
  }
  if (log.nccl.empty()) log.nccl = nccl_debug_release;
  for (const auto& setting : log.nccl_settings) {
    if (setting.name == "NCCL_ALGO") log.nccl_algo = setting.value;
    if (setting.name == "NCCL_PROTO") log.nccl_proto = setting.value;
  }
  log.groups = std::max<int>(1, static_cast<int>(groups.size()));
  log.redop_column = redop_column;
  log.root_column = root_column;
  return log;
}

Expected<NcclTestsLog> load_nccl_tests_log(const std::string& path, const std::string& shown) {
  const std::string name = shown.empty() ? path : shown;
  const std::string what = "nccl-tests log";
  auto opened = open_input_file(path, what, name);
  if (!opened) return opened.error();
  std::ifstream& in = *opened;
  // NCCL_DEBUG=INFO output runs to gigabytes on a large job, nearly all of
  // it INFO lines the reader skips: those are dropped as the file streams
  // in, each leaving an empty line so that line numbers hold, and the input
  // limit (read_text_file's) bounds what is kept. The INFO lines it reads
  // (the release, the settings) are kept.
  const std::size_t limit = max_input_bytes();
  std::string kept, pending;
  int line_no = 0;
  auto keep = [&](std::string_view line) {
    ++line_no;
    const bool skipped = line.find("NCCL INFO ") != std::string_view::npos &&
                         line.find("NCCL version ") == std::string_view::npos &&
                         line.find(" set by environment to ") == std::string_view::npos &&
                         line.find(" reset to NCCL_") == std::string_view::npos;
    if (!skipped) kept.append(line);
    kept += '\n';
  };
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    std::string_view got(chunk.data(), static_cast<std::size_t>(in.gcount()));
    while (!got.empty()) {
      const std::size_t end = got.find('\n');
      pending.append(got.substr(0, end));
      if (pending.size() > kMaxNcclTestsLogLine) {
        return Error{fmt::format("expected a line of an {} (at most {} KiB), found a longer one", what,
                                 kMaxNcclTestsLogLine >> 10),
                     "", SourceMark{FileName(name), line_no + 1, 1}};
      }
      if (end == std::string_view::npos) break;
      keep(pending);
      pending.clear();
      got.remove_prefix(end + 1);
    }
    if (kept.size() > limit) {
      return make_error(fmt::format(
          "{}: the {} is larger than {} MiB without NCCL's INFO lines, the limit for an input file (set {} to "
          "raise it)",
          name, what, limit >> 20, kMaxInputEnv));
    }
  }
  if (in.bad()) return make_error(fmt::format("{}: cannot read {}", name, what));
  if (!pending.empty()) keep(pending);
  return parse_nccl_tests_log(kept, name);
}

}  // namespace collsim::config

#include "sim/config/nccl_tests_log.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
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

}  // namespace

Expected<NcclTestsLog> parse_nccl_tests_log(const std::string& text, const std::string& file) {
  NcclTestsLog log;
  const FileName name(file);
  auto error_at = [&](int line, int column, std::string message) {
    return Error{std::move(message), "", SourceMark{name, line, column}};
  };
  std::map<long long, int> rank_line;  // rank -> its line
  std::map<double, int> size_line;     // size -> its row's line
  std::string nccl_debug_release;      // from NCCL's own "NCCL version" line
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (nccl_debug_release.empty()) {
      if (const auto at = line.find("NCCL version "); at != std::string_view::npos) {
        const auto rest = split(line, at + 13);
        if (!rest.empty()) {
          std::string_view v = rest.front().text;
          v = v.substr(0, v.find('+'));
          if (!v.empty() && std::isdigit(static_cast<unsigned char>(v.front()))) nccl_debug_release = v;
        }
      }
    }
    const auto tokens = split(line, after_tag(line));
    if (tokens.empty()) continue;
    if (tokens.front().text == "#" || tokens.front().text.front() == '#') {
      // Header lines: "#" may stand alone or lead the first word.
      std::vector<Token> words = tokens;
      if (words.front().text == "#") {
        words.erase(words.begin());
      } else {
        words.front().text.remove_prefix(1);
      }
      if (words.empty()) continue;
      for (std::size_t i = 0; i < words.size(); ++i) {
        if (words[i].text.substr(0, 13) == "nccl-library=") {
          if (auto code = whole(words[i].text.substr(13))) log.nccl = release_of_code(*code);
        }
        if (words[i].text == "iters:" && i > 0 && words[i - 1].text != "warmup" && words[i - 1].text != "agg" &&
            i + 1 < words.size()) {
          if (auto n = whole(words[i + 1].text); n && *n > 0 && *n < (1LL << 30)) log.iters = static_cast<int>(*n);
        }
      }
      if (words.size() >= 2 && words[0].text == "Rank" && digits(words[1].text)) {
        // Rank r [Group g] Pid p on HOST device d [bus] NAME
        std::size_t on = 2;
        while (on < words.size() && words[on].text != "on") ++on;
        if (on + 1 >= words.size())
          return error_at(line_no, words[1].column,
                          "expected '# Rank N ... on HOST device D [BUS] GPU', found no host");
        const long long rank = *whole(words[1].text);
        if (rank >= (1 << 24)) return error_at(line_no, words[1].column, "expected a rank below 16777216");
        if (auto [it, fresh] = rank_line.emplace(rank, line_no); !fresh) {
          return error_at(line_no, words[1].column,
                          fmt::format("rank {} is listed twice (lines {} and {})", rank, it->second, line_no));
        }
        if (log.rank_hosts.size() <= static_cast<std::size_t>(rank)) log.rank_hosts.resize(rank + 1);
        log.rank_hosts[static_cast<std::size_t>(rank)] = std::string(words[on + 1].text);
        if (rank == 0 || log.device.empty()) {
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
    // With a root column: size count type redop root time algbw busbw...
    // (13 and more); without (older nccl-tests): 12.
    const bool root_column = tokens.size() >= 13;
    const std::size_t first = root_column ? 5 : 4;
    if (tokens.size() < 12) {
      return error_at(line_no, tokens.back().column,
                      fmt::format("expected an nccl-tests result row (size, count, type, redop, root, then time, "
                                  "algbw, busbw and #wrong out of place and in place), found {} columns",
                                  tokens.size()));
    }
    NcclTestsRow row;
    row.at = SourceMark{name, line_no, tokens[0].column};
    auto size = whole(tokens[0].text);
    if (!size || *size <= 0)
      return error_at(line_no, tokens[0].column,
                      fmt::format("expected a size in bytes above 0, found '{}'", tokens[0].text));
    row.bytes = static_cast<double>(*size);
    row.type = tokens[2].text;
    row.redop = tokens[3].text;
    if (root_column) {
      auto root = whole(tokens[4].text);
      if (!root || *root < -1 || *root >= (1 << 24))
        return error_at(line_no, tokens[4].column,
                        fmt::format("expected a root rank (-1: none), found '{}'", tokens[4].text));
      row.root = static_cast<int>(*root);
    }
    const char* names[3] = {"time (us)", "algbw (GB/s)", "busbw (GB/s)"};
    double* into[3] = {&row.time_us, &row.algbw_GBps, &row.busbw_GBps};
    for (int k = 0; k < 3; ++k) {
      const Token& t = tokens[first + static_cast<std::size_t>(k)];
      auto v = number(t.text);
      if (!v)
        return error_at(
            line_no, t.column,
            fmt::format("expected the out-of-place {}, a number of 0 or more, found '{}'", names[k], t.text));
      *into[k] = *v;
    }
    if (!(row.time_us > 0))
      return error_at(line_no, tokens[first].column, "expected the out-of-place time (us) above 0, found 0");
    if (auto [it, fresh] = size_line.emplace(row.bytes, line_no); !fresh) {
      return error_at(line_no, tokens[0].column,
                      fmt::format("size {} appears again (first at line {}): expected one run per log (nccl-tests "
                                  "run once, one -d type and one -o reduction)",
                                  *size, it->second));
    }
    if (!log.rows.empty()) {
      const NcclTestsRow& a = log.rows.front();
      if (a.type != row.type || a.redop != row.redop || a.root != row.root) {
        return error_at(line_no, tokens[2].column,
                        fmt::format("expected the rows of one run: line {} has {} {} root {}, this one {} {} root {}",
                                    a.at.line, a.type, a.redop, a.root, row.type, row.redop, row.root));
      }
    }
    log.rows.push_back(std::move(row));
  }
  if (log.rows.empty()) {
    return Error{fmt::format("{}: expected nccl-tests result rows (size, count, type, redop, root, time, algbw, "
                             "busbw, ... as all_reduce_perf prints them), found none",
                             file),
                 "",
                 {}};
  }
  for (std::size_t r = 0; r < log.rank_hosts.size(); ++r) {
    if (log.rank_hosts[r].empty()) {
      return Error{fmt::format("{}: the '# Rank' lines skip rank {} (ranks 0 to {} expected)", file, r,
                               log.rank_hosts.size() - 1),
                   "",
                   {}};
    }
  }
  if (log.nccl.empty()) log.nccl = nccl_debug_release;
  return log;
}

Expected<NcclTestsLog> load_nccl_tests_log(const std::string& path) {
  auto text = read_text_file(path, "nccl-tests log");
  if (!text) return text.error();
  return parse_nccl_tests_log(*text, path);
}

}  // namespace collsim::config

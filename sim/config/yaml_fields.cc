#include "sim/config/yaml_fields.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace collsim::config {

Expected<YAML::Node> load_yaml(const std::string& text, const std::string& file) {
  // YAML allows no control characters but tab and line ends; yaml-cpp lets
  // some through (a NUL in a name was read as part of it).
  int line = 1, column = 1;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) {
      return Error{fmt::format("a control character (byte 0x{:02x}) in the file; expected text", u), "",
                   SourceMark{file, line, column}};
    }
    if (c == '\n') {
      ++line, column = 1;
    } else {
      ++column;
    }
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    return Error{"the YAML nests deeper than the reader follows (about 500 levels of lists or maps)", "",
                 SourceMark{file, e.mark.line + 1, e.mark.column + 1}};
  } catch (const YAML::ParserException& e) {
    // A tab in a line's indentation: YAML indents with spaces only.
    std::istringstream lines(text);
    std::string at;
    for (int i = 0; i <= e.mark.line && std::getline(lines, at); ++i) {
    }
    const auto indent = at.find_first_not_of(" \t");
    const auto tab = at.substr(0, indent).find('\t');
    if (tab != std::string::npos) {
      return Error{"YAML syntax error: a tab in the indentation (YAML indents with spaces)", "",
                   SourceMark{file, e.mark.line + 1, static_cast<int>(tab) + 1}};
    }
    // A selector's brackets in a { } map (gpu[0]) open a list there: the
    // name wants quotes. Said where the first such name on the line starts.
    if (at.find('{') != std::string::npos) {
      for (std::size_t i = at.find('{'); i < at.size(); ++i) {
        if (at[i] != ':' && at[i] != ',' && at[i] != '{') continue;
        std::size_t j = at.find_first_not_of(' ', i + 1);
        std::size_t k = j;
        while (k < at.size() && (std::isalnum(static_cast<unsigned char>(at[k])) || at[k] == '_' || at[k] == '-')) ++k;
        if (j != std::string::npos && k > j && k < at.size() && at[k] == '[') {
          const auto end = at.find(']', k);
          const std::string name = at.substr(j, end == std::string::npos ? k - j + 1 : end - j + 1);
          return Error{fmt::format("YAML syntax error: {}; inside {{ }} a name with brackets must be quoted: "
                                   "\"{}\"",
                                   e.msg, name),
                       "", SourceMark{file, e.mark.line + 1, static_cast<int>(j) + 1}};
        }
      }
    }
    return Error{fmt::format("YAML syntax error: {}", e.msg), "", SourceMark{file, e.mark.line + 1, e.mark.column + 1}};
  }
  if (!root.IsDefined() || root.IsNull()) {
    // Text that is not comments, but that the reader took as no document
    // (a line starting with a stray ',' ends it): say where.
    std::istringstream lines(text);
    std::string at;
    for (int n = 1; std::getline(lines, at); ++n) {
      const auto first = at.find_first_not_of(" \t\r");
      if (first == std::string::npos || at[first] == '#') continue;
      if (at.compare(first, 3, "---") == 0 || at.compare(first, 3, "...") == 0) continue;
      return Error{
          "no YAML document starts here: expected the file's map of fields, found text the reader ends "
          "the document at",
          "", SourceMark{file, n, static_cast<int>(first) + 1}};
    }
    return Error{"the file is empty: no YAML document in it", "", SourceMark{file, 1, 1}};
  }
  // A second document (content after a '---' that follows content, or after
  // '...') would be silently ignored: Load reads the first. Found by its
  // markers, which YAML allows only at the start of a line (not by
  // yaml-cpp's LoadAll, which runs away on some malformed input). An empty
  // document after the first is harmless and passes.
  std::istringstream lines(text);
  std::string at;
  bool content = false;
  int second_at = 0;  // the line of the marker that ends the first document
  for (int n = 1; std::getline(lines, at); ++n) {
    const auto marker = [&](std::string_view m) {
      return at.compare(0, 3, m) == 0 && (at.size() == 3 || at[3] == ' ' || at[3] == '\t' || at[3] == '\r');
    };
    if (marker("---") || marker("...")) {
      if (content && second_at == 0) second_at = n;
      continue;
    }
    const auto first = at.find_first_not_of(" \t\r");
    if (first == std::string::npos || at[first] == '#' || at[first] == '%') continue;
    if (second_at > 0) {
      return Error{fmt::format("a second YAML document (after line {}) starts here; expected one document per "
                               "file (collsim reads no more)",
                               second_at),
                   "", SourceMark{file, n, static_cast<int>(first) + 1}};
    }
    content = true;
  }
  return root;
}

SourceMark mark_of(const YAML::Node& node, const std::string& file) {
  const YAML::Mark m = node.Mark();
  // yaml-cpp marks are 0-based; -1 for nodes built in memory: a value given
  // with --set (tagged by apply_overrides), or one a cluster template generated.
  if (m.line < 0) {
    const std::string& tag = node.Tag();
    for (std::string_view prefix : {kSetValueTag, kSetCreatedTag})
      if (tag.starts_with(prefix)) return SourceMark{tag.substr(prefix.size()), 0, 0};
    return SourceMark{file + " (a template expansion)", 0, 0};
  }
  return SourceMark{file, m.line + 1, m.column + 1};
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbouring letters ('strat' is one from 'start'), in
// three rows of b's length.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

}  // namespace

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  // Equally near, the one nearer the word's length: 'nodse' is 'nodes'
  // with two letters swapped, not 'node' with one more.
  auto length_gap = [&](std::string_view c) {
    return c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
  };
  for (auto c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (!best || d < best_distance || (d == best_distance && length_gap(c) < length_gap(*best))) {
      best = std::string(c);
      best_distance = d;
    }
  }
  // Suggest only plausible typos: at most a third of the word changed.
  if (best && best_distance <= std::max<std::size_t>(1, word.size() / 3)) return best;
  return std::nullopt;
}

MapReader::MapReader(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

std::string MapReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

SourceMark MapReader::mark() const { return config::mark_of(node_, file_); }

SourceMark MapReader::mark_of(std::string_view key) const {
  if (node_.IsMap()) {
    for (const auto& kv : node_) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return config::mark_of(kv.second, file_);
    }
  }
  return mark();
}

Error MapReader::error_at(std::string_view key, std::string message) const {
  return Error{std::move(message), field(key), mark_of(key)};
}

Status MapReader::check(const std::vector<std::string_view>& allowed) const {
  if (!node_.IsMap()) {
    return Error{"expected a map of key: value pairs", path_, mark()};
  }
  // yaml-cpp keeps every pair of a map but looks keys up by the first:
  // a key given twice would silently keep its first value.
  std::unordered_map<std::string, YAML::Node> seen;
  // A key a --set added has no position of its own; its value names the --set.
  auto key_mark = [&](const auto& kv) {
    return config::mark_of(kv.first.Mark().line >= 0 ? kv.first : kv.second, file_);
  };
  for (const auto& kv : node_) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("<non-scalar key>");
    if (auto [it, fresh] = seen.try_emplace(key, kv.first); !fresh) {
      const SourceMark at = config::mark_of(it->second, file_);
      return Error{
          fmt::format("key '{}' is given twice (first at line {}, column {}); keep one", key, at.line, at.column),
          field(key), key_mark(kv)};
    }
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = fmt::format("unknown key '{}'", key);
    if (auto near = closest_match(key, allowed)) {
      message += fmt::format(" (did you mean '{}'?)", *near);
    } else {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      message += fmt::format("; expected one of: {}", list);
    }
    return Error{message, field(key), key_mark(kv)};
  }
  return Ok{};
}

bool MapReader::has(std::string_view key) const { return node_.IsMap() && node_[std::string(key)]; }

Expected<std::optional<std::string>> MapReader::optional_scalar(std::string_view key) const {
  if (!has(key)) return std::optional<std::string>{};
  const YAML::Node v = node_[std::string(key)];
  if (v.IsNull()) return error_at(key, "expected a value, found none");
  if (!v.IsScalar()) return error_at(key, "expected a single value, found a list or map");
  return std::optional<std::string>{v.Scalar()};
}

Expected<bool> MapReader::boolean(std::string_view key, bool fallback) const {
  auto v = optional_scalar(key);
  if (!v) return v.error();
  if (!*v) return fallback;
  if (**v == "true") return true;
  if (**v == "false") return false;
  return error_at(key, fmt::format("expected true or false, found '{}'", **v));
}

Expected<std::string> MapReader::scalar(std::string_view key) const {
  if (!has(key)) {
    std::string message = fmt::format("missing required key '{}'", key);
    if (node_.Tag().starts_with(kSetCreatedTag))
      message += fmt::format(" (the file has no '{}': this --set made it)", path_);
    return Error{message, field(key), mark()};
  }
  auto v = optional_scalar(key);
  if (!v) return v.error();
  return **v;
}

Expected<int> MapReader::integer_in(std::string_view key, long long lo, long long hi, std::string_view what) const {
  auto v = integer(key);
  if (!v) return v.error();
  if (*v < lo || *v > hi) return error_at(key, fmt::format("expected {} from {} to {}, found {}", what, lo, hi, *v));
  return static_cast<int>(*v);
}

Expected<long long> MapReader::integer(std::string_view key) const {
  auto text = scalar(key);
  if (!text) return text.error();
  long long value = 0;
  const std::string& s = *text;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range && end == s.data() + s.size()) {
    return error_at(key, fmt::format("'{}' is too large: expected a whole number of at most 64 bits", s));
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    return error_at(key, fmt::format("expected a whole number, found '{}'", s));
  }
  return value;
}

Expected<double> MapReader::number(std::string_view key) const {
  auto text = scalar(key);
  if (!text) return text.error();
  double value = 0;
  const std::string& s = *text;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    return error_at(key, fmt::format("expected a number, found '{}'", s));
  }
  return value;
}

std::size_t max_input_bytes() {
  const char* env = std::getenv(kMaxInputEnv);
  long long mib = kMaxInputMiB;
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= (1LL << 20)) mib = v;
  }
  return static_cast<std::size_t>(mib) << 20;
}

Expected<std::ifstream> open_input_file(const std::string& path, const std::string& what, const std::string& shown) {
  const std::string& name = shown.empty() ? path : shown;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return make_error(fmt::format("{}: is a directory, not a {}", name, what));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int why = errno;
    return make_error(
        fmt::format("{}: cannot open {}: {}", name, what, why != 0 ? std::strerror(why) : "the file cannot be read"));
  }
  return in;
}

Expected<std::string> read_text_file(const std::string& path, const std::string& what) {
  auto opened = open_input_file(path, what);
  if (!opened) return opened.error();
  std::ifstream& in = *opened;
  // Read at most the limit (and one byte more to tell): /dev/zero, a
  // runaway pipe or a file far too large stop here, not at the memory's end.
  const std::size_t limit = max_input_bytes();
  std::string text;
  std::vector<char> chunk(1 << 20);
  while (in && text.size() <= limit) {
    in.read(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), limit + 1 - text.size())));
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (text.size() > limit) {
    return make_error(fmt::format("{}: the {} is larger than {} MiB, the limit for an input file (set {} to raise it)",
                                  path, what, limit >> 20, kMaxInputEnv));
  }
  if (in.bad()) return make_error(fmt::format("{}: cannot read {}", path, what));
  return text;
}

}  // namespace collsim::config

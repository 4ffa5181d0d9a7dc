// Helpers for reading YAML maps with errors that name file:line:column and the
// field. Used by every file format collsim reads (topologies now, workloads and
// studies later). Nothing outside sim/config includes yaml-cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

// One map being read: its node, the file it came from and its field path
// ("links[3]"), so that every error can say where it is.
class MapReader {
 public:
  MapReader(YAML::Node node, std::string file, std::string path);

  // Error unless the node is a map whose keys are all in `allowed`; an
  // unknown key gets a "did you mean" when one allowed key is close.
  Status check(const std::vector<std::string_view>& allowed) const;

  bool has(std::string_view key) const;
  // The scalar text of `key`; error if missing (required) or not a scalar.
  Expected<std::string> scalar(std::string_view key) const;
  // Empty when absent; error when present but not a scalar.
  Expected<std::optional<std::string>> optional_scalar(std::string_view key) const;
  Expected<long long> integer(std::string_view key) const;
  // A whole number from lo to hi (what fits the int it is stored in, and
  // the field's own range); the error names the range and what was found.
  // `what` describes it ("a count", "a rack unit").
  Expected<int> integer_in(std::string_view key, long long lo, long long hi, std::string_view what) const;
  Expected<double> number(std::string_view key) const;
  // true or false; `fallback` when absent; the error names what was found.
  Expected<bool> boolean(std::string_view key, bool fallback) const;
  // The scalar of `key` read by `parse` (text -> Expected<T>), `fallback`
  // when absent; parse's error message is reported at the key's value.
  template <class T, class Parse>
  Expected<T> parsed(std::string_view key, Parse parse, T fallback) const {
    auto text = optional_scalar(key);
    if (!text) return text.error();
    if (!*text) return fallback;
    auto value = parse(**text);
    if (!value) return error_at(key, value.error().message);
    return *value;
  }

  YAML::Node child(std::string_view key) const { return node_[std::string(key)]; }
  std::string field(std::string_view key) const;   // "links[3].rate"
  SourceMark mark_of(std::string_view key) const;  // of the value, or of the map when absent
  SourceMark mark() const;
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

  // An Error about `key` in this map, positioned at its value.
  Error error_at(std::string_view key, std::string message) const;

 private:
  YAML::Node node_;
  std::string file_;
  std::string path_;
};

// Where `node` came from: "file:line:column" when it was read from the file;
// "--set ASSIGNMENT" when a --set value (or a study axis value) made it; else
// "file (a template expansion)".
SourceMark mark_of(const YAML::Node& node, const std::string& file);

// The tags apply_overrides puts on the nodes it makes, followed by the flag
// and its assignment ("--set links[0].rate=x"): kSetValueTag on the value's
// nodes, kSetCreatedTag on a map it had to create on the way to its key
// (the file did not have it).
inline constexpr std::string_view kSetValueTag = "collsim-set-value:";
inline constexpr std::string_view kSetCreatedTag = "collsim-set-created:";

// Named limit on an input file: 32 MiB, overridable in MiB with the
// environment variable COLLSIM_MAX_INPUT_MB. The YAML reader takes about 100
// times a file's size in memory (a 1.6 MB file of 40,000 racks: 177 MB), so
// this bounds a read at a few GB; the largest shipped input is a few KB.
inline constexpr long long kMaxInputMiB = 32;
inline constexpr const char* kMaxInputEnv = "COLLSIM_MAX_INPUT_MB";

// The limit above, in bytes (the environment variable's when it reads as
// 1 to 2^20 MiB).
std::size_t max_input_bytes();

// `path` opened for reading, named `shown` in errors (empty: the path).
// Errors: "PATH: cannot open WHAT: REASON"; a directory.
Expected<std::ifstream> open_input_file(const std::string& path, const std::string& what,
                                        const std::string& shown = "");

// The whole file. Errors: "PATH: cannot open WHAT"; a directory; more than
// the limit above (also what stops /dev/zero or an endless pipe).
Expected<std::string> read_text_file(const std::string& path, const std::string& what);

// Parses the YAML document in `text` (read from `file`). Errors, at their
// position: a syntax error; nesting deeper than yaml-cpp reads (it says
// "bad file"); an empty document (no map to read: "file:1:1: the file is
// empty").
Expected<YAML::Node> load_yaml(const std::string& text, const std::string& file);

// The candidate closest to `word` by edit distance, if close enough to suggest.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace collsim::config

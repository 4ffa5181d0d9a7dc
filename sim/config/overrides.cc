#include "sim/config/overrides.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

#include <cctype>
#include <charconv>

#include "sim/config/yaml_fields.h"

namespace collsim::config {

namespace {

// The flag and its assignment, as errors name them ("--set links[0].rate=x");
// a long value is cut (an alias bomb would fill the terminal).
std::string where(std::string_view flag, const std::string& assignment) {
  constexpr std::size_t kShown = 120;
  if (assignment.size() <= kShown) return fmt::format("{} {}", flag, assignment);
  return fmt::format("{} {}... ({} characters)", flag, assignment.substr(0, kShown), assignment.size());
}

Error set_error(std::string_view flag, const std::string& assignment, const std::string& message) {
  return Error{message, "", SourceMark{where(flag, assignment), 0, 0}};
}

// Splits "links[3].rate" into {"links", "[3]", "rate"}.
Expected<std::vector<std::string>> split_path(const std::string& path, std::string_view flag,
                                              const std::string& assignment) {
  std::vector<std::string> parts;
  std::string current;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' || c == '[') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
      if (c == '[') {
        const auto close = path.find(']', i);
        if (close == std::string::npos) return set_error(flag, assignment, fmt::format("unclosed '[' in '{}'", path));
        parts.push_back(path.substr(i, close - i + 1));
        i = close;
      }
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  if (parts.empty()) return set_error(flag, assignment, "expected key.path=value");
  return parts;
}

// A copy built in memory, so that it carries no file position: errors about
// it then say it came from --set instead of pointing into the file. YAML
// aliases share nodes, so a value can refer to itself (&a [*a]) or expand
// exponentially (an alias bomb): the copy refuses more than kMaxDepth levels
// or kMaxNodes nodes (named limits, far above any real value) instead of
// recursing without end.
constexpr int kMaxDepth = 64;
constexpr long kMaxNodes = 100000;
constexpr long kMaxTextBytes = 16L << 20;  // of scalar text, aliases expanded (long strings in a bomb)

// Returns why the copy was refused, or "".
std::string copy_without_marks(const YAML::Node& n, const std::string& tag, int depth, long& budget, long& text_budget,
                               YAML::Node& out) {
  if (depth > kMaxDepth)
    return fmt::format("the value nests deeper than {} levels (an alias that refers to itself?)", kMaxDepth);
  if (--budget < 0) return fmt::format("the value has more than {} elements once its aliases are expanded", kMaxNodes);
  if (n.IsScalar()) {
    text_budget -= static_cast<long>(n.Scalar().size());
    if (text_budget < 0)
      return fmt::format("the value has more than {} MiB of text once its aliases are expanded", kMaxTextBytes >> 20);
    out = YAML::Node(n.Scalar());
  } else if (n.IsSequence()) {
    out = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& item : n) {
      YAML::Node copy;
      if (auto why = copy_without_marks(item, tag, depth + 1, budget, text_budget, copy); !why.empty()) return why;
      out.push_back(copy);
    }
  } else if (n.IsMap()) {
    out = YAML::Node(YAML::NodeType::Map);
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return "a key of the value is not a plain name";
      if (out[kv.first.Scalar()])
        return fmt::format("key '{}' is given twice in the value; keep one", kv.first.Scalar());
      YAML::Node copy;
      if (auto why = copy_without_marks(kv.second, tag, depth + 1, budget, text_budget, copy); !why.empty()) return why;
      out[kv.first.Scalar()] = copy;
    }
  } else {
    out = YAML::Node();
  }
  out.SetTag(tag);
  return {};
}

}  // namespace

void clear_override_tags(YAML::Node& root) {
  const std::string& tag = root.Tag();
  if (tag.starts_with(kSetValueTag) || tag.starts_with(kSetCreatedTag)) root.SetTag("");
  if (root.IsSequence()) {
    for (std::size_t i = 0; i < root.size(); ++i) {
      YAML::Node item = root[i];
      clear_override_tags(item);
    }
  } else if (root.IsMap()) {
    for (auto kv : root) {
      YAML::Node value = kv.second;
      clear_override_tags(value);
    }
  }
}

std::string override_key(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return {};
  // As split_path reads it: ".nccl.buffsize" and "links.[0]" are
  // "nccl.buffsize" and "links[0]".
  const std::string path = assignment.substr(0, eq);
  const auto parts = split_path(path, "", assignment);
  if (!parts) return path;
  std::string key;
  for (const auto& part : *parts) key += (key.empty() || part.front() == '[' ? "" : ".") + part;
  return key;
}

const std::string* conflicting_override(const std::vector<std::string>& earlier, const std::string& assignment) {
  const std::string key = override_key(assignment);
  if (key.empty()) return nullptr;
  const std::string value = assignment.substr(assignment.find('=') + 1);
  for (const auto& e : earlier)
    if (override_key(e) == key && e.substr(e.find('=') + 1) != value) return &e;
  return nullptr;
}

Status apply_overrides(YAML::Node& root, const std::vector<std::string>& assignments, std::string_view flag) {
  for (const auto& assignment : assignments) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      return set_error(flag, assignment, fmt::format("expected key.path=value, found '{}'", assignment));
    }
    const std::string path = assignment.substr(0, eq);
    YAML::Node value;
    try {
      long budget = kMaxNodes, text_budget = kMaxTextBytes;
      const std::string tag = std::string(kSetValueTag) + where(flag, assignment);
      if (auto why = copy_without_marks(YAML::Load(assignment.substr(eq + 1)), tag, 0, budget, text_budget, value);
          !why.empty()) {
        return set_error(flag, assignment, why);
      }
    } catch (const YAML::DeepRecursion&) {
      return set_error(flag, assignment, fmt::format("the value nests deeper than {} levels", kMaxDepth));
    } catch (const YAML::Exception& e) {
      return set_error(flag, assignment, fmt::format("the value is not valid YAML: {}", e.msg));
    }
    auto parts = split_path(path, flag, assignment);
    if (!parts) return parts.error();
    // yaml-cpp nodes are handles: walking with copies edits the tree in place.
    YAML::Node node = root;
    std::string walked;
    for (std::size_t k = 0; k < parts->size(); ++k) {
      const std::string& part = (*parts)[k];
      const bool last = k + 1 == parts->size();
      if (part.front() == '[') {
        const std::string digits = part.substr(1, part.size() - 2);
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
          return set_error(flag, assignment, fmt::format("expected a list index like [3], found '{}'", part));
        }
        // All digits: parsing fails only on an index past size_t, never in any list.
        std::size_t index = 0;
        const bool parsed = std::from_chars(digits.data(), digits.data() + digits.size(), index).ec == std::errc{};
        if (!parsed || !node.IsSequence() || index >= node.size()) {
          return set_error(
              flag, assignment,
              fmt::format("'{}' is not a list with an element {}", walked.empty() ? "the document" : walked, digits));
        }
        YAML::Node child = node[index];
        if (last) {
          node[index] = value;
        } else {
          node.reset(child);
        }
      } else {
        if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
          return set_error(flag, assignment, fmt::format("'{}' is not a map, so it has no key '{}'", walked, part));
        }
        if (last) {
          node[part] = value;
        } else {
          if (!node[part]) {  // a map the file does not have: made here, and tagged so errors name this --set
            YAML::Node created(YAML::NodeType::Map);
            created.SetTag(std::string(kSetCreatedTag) + where(flag, assignment));
            node[part] = created;
          }
          YAML::Node child = node[part];
          node.reset(child);
        }
      }
      walked += (walked.empty() || part.front() == '[' ? "" : ".") + part;
    }
  }
  return Ok{};
}

}  // namespace collsim::config

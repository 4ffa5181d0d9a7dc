#include "sim/config/overrides.h"

#include <fmt/format.h>

#include <cctype>

namespace collsim::config {

namespace {

Error set_error(const std::string& assignment, const std::string& message) {
  return Error{message, "", SourceMark{"--set " + assignment, 0, 0}};
}

// Splits "links[3].rate" into {"links", "[3]", "rate"}.
Expected<std::vector<std::string>> split_path(const std::string& path, const std::string& assignment) {
  std::vector<std::string> parts;
  std::string current;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' || c == '[') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
      if (c == '[') {
        const auto close = path.find(']', i);
        if (close == std::string::npos) return set_error(assignment, fmt::format("unclosed '[' in '{}'", path));
        parts.push_back(path.substr(i, close - i + 1));
        i = close;
      }
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  if (parts.empty()) return set_error(assignment, "expected key.path=value");
  return parts;
}

// A copy built in memory, so that it carries no file position: errors about
// it then say it came from --set instead of pointing into the file.
YAML::Node without_marks(const YAML::Node& n) {
  if (n.IsScalar()) return YAML::Node(n.Scalar());
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : n) out.push_back(without_marks(item));
    return out;
  }
  if (n.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : n) out[kv.first.Scalar()] = without_marks(kv.second);
    return out;
  }
  return YAML::Node();
}

}  // namespace

Status apply_overrides(YAML::Node& root, const std::vector<std::string>& assignments) {
  for (const auto& assignment : assignments) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      return set_error(assignment, fmt::format("expected key.path=value, found '{}'", assignment));
    }
    const std::string path = assignment.substr(0, eq);
    YAML::Node value;
    try {
      value = without_marks(YAML::Load(assignment.substr(eq + 1)));
    } catch (const YAML::Exception& e) {
      return set_error(assignment, fmt::format("the value is not valid YAML: {}", e.msg));
    }
    auto parts = split_path(path, assignment);
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
          return set_error(assignment, fmt::format("expected a list index like [3], found '{}'", part));
        }
        const std::size_t index = std::stoul(digits);
        if (!node.IsSequence() || index >= node.size()) {
          return set_error(assignment, fmt::format("'{}' is not a list with an element {}", walked, index));
        }
        YAML::Node child = node[index];
        if (last) {
          node[index] = value;
        } else {
          node.reset(child);
        }
      } else {
        if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
          return set_error(assignment, fmt::format("'{}' is not a map, so it has no key '{}'", walked, part));
        }
        if (last) {
          node[part] = value;
        } else {
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

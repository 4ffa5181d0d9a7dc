// A link's class or cable medium, held once per distinct text: a big
// cluster's device graph repeats a handful of names over millions of
// directed links (2.49 M at 131,072 GPUs, where two std::string fields were
// 64 of a link's 136 bytes; docs/performance.md).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace collsim::topology {

class LinkLabel {
 public:
  LinkLabel() : text_(&intern({})) {}
  LinkLabel(std::string_view text) : text_(&intern(text)) {}  // NOLINT: converts like the string it replaces
  LinkLabel(const std::string& text) : LinkLabel(std::string_view(text)) {}
  LinkLabel(const char* text) : LinkLabel(std::string_view(text)) {}

  const std::string& str() const { return *text_; }
  operator const std::string&() const { return *text_; }  // NOLINT: reads like the string it replaces
  operator std::string_view() const { return *text_; }    // NOLINT: as std::string's own
  bool empty() const { return text_->empty(); }

  friend bool operator==(const LinkLabel& a, const LinkLabel& b) { return a.text_ == b.text_; }
  friend bool operator==(const LinkLabel& a, std::string_view b) { return *a.text_ == b; }
  friend bool operator==(const LinkLabel& a, const std::string& b) { return *a.text_ == b; }
  friend bool operator==(const LinkLabel& a, const char* b) { return *a.text_ == b; }
  friend bool operator<(const LinkLabel& a, const LinkLabel& b) { return *a.text_ < *b.text_; }

 private:
  // The one copy of `text`, alive until exit. Thread-safe.
  static const std::string& intern(std::string_view text);
  const std::string* text_;
};

}  // namespace collsim::topology

template <>
struct fmt::formatter<collsim::topology::LinkLabel> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const collsim::topology::LinkLabel& label, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(label.str(), ctx);
  }
};

#include "sim/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace collsim::report::svg {

namespace {

constexpr double kWidth = 960;
constexpr double kLabelWidth = 210;  // left margin for row labels

std::string text(double x, double y, const std::string& s, const char* anchor = "start", const char* cls = "") {
  return fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="{}" class="{}">{}</text>)", x, y, anchor, cls,
                     escape(s));
}

std::string rect(double x, double y, double w, double h, const std::string& fill, const std::string& title) {
  return fmt::format(R"(<rect x="{:.2f}" y="{:.1f}" width="{:.2f}" height="{:.1f}" fill="{}">{}</rect>)", x, y,
                     std::max(w, 0.0), h, fill, title.empty() ? "" : "<title>" + escape(title) + "</title>");
}

// Long labels keep their start and end: "n0nvswitch0..n0nvswitch17 (18 planes)->n0gpu8".
std::string fit_label(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t head = (max - 3) / 2, tail_start = s.size() - (max - 3 - head);
  // Never cut inside a UTF-8 character (continuation bytes are 10xxxxxx).
  auto continuation = [&](std::size_t i) { return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80; };
  while (head > 0 && continuation(head)) --head;
  while (continuation(tail_start)) ++tail_start;
  return fmt::format("{}...{}", s.substr(0, head), s.substr(tail_start));
}

// Round numbers for an axis from lo to hi: at most ~2 x target of them,
// and just lo when the range is empty or too narrow to divide.
std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi - lo > std::max(std::abs(lo), std::abs(hi)) * 1e-9)) {
    return {std::isfinite(lo) ? lo : 0.0};
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  const double first = std::ceil(lo / step);
  for (int k = 0; k <= 4 * target; ++k) {
    const double t = (first + k) * step;
    if (t > hi * (1 + 1e-9) + 1e-300) break;
    ticks.push_back(t);
  }
  if (ticks.empty()) ticks.push_back(lo);
  return ticks;
}

std::string short_number(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.3g}", v);
  return fmt::format("{:.3g}", v);
}

}  // namespace

std::string open_chart(const std::string& name, double height) {
  return fmt::format(
      R"(<svg class="chart" data-chart="{}" xmlns="http://www.w3.org/2000/svg" width="{}" height="{:.0f}" )"
      R"(viewBox="0 0 {} {:.0f}" role="img">)",
      escape(name), kWidth, height, kWidth, height);
}

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // XML 1.0 allows no control characters but tab, newline and return.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

std::string heat_colour(double f) {
  f = std::clamp(std::isfinite(f) ? f : 0.0, 0.0, 1.0);
  // Piecewise linear: #f4f6fb (idle) -> #fdd35c (half) -> #d7301f (full).
  auto mix = [](int a, int b, double t) { return static_cast<int>(std::lround(a + (b - a) * t)); };
  int r, g, b;
  if (f < 0.5) {
    const double t = f / 0.5;
    r = mix(0xf4, 0xfd, t), g = mix(0xf6, 0xd3, t), b = mix(0xfb, 0x5c, t);
  } else {
    const double t = (f - 0.5) / 0.5;
    r = mix(0xfd, 0xd7, t), g = mix(0xd3, 0x30, t), b = mix(0x5c, 0x1f, t);
  }
  return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
}

std::string category_colour(int i) {
  // Okabe-Ito, a palette designed to stay distinct under colour blindness.
  static const char* palette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                  "#56b4e9", "#d55e00", "#f0e442", "#999999"};
  return palette[((i % 8) + 8) % 8];
}

std::string format_seconds(double s) {
  const double a = std::abs(s);
  if (a == 0) return "0";
  if (a < 1e-3) return fmt::format("{} us", short_number(s * 1e6));
  if (a < 1) return fmt::format("{} ms", short_number(s * 1e3));
  if (a < 2 * 3600) return fmt::format("{} s", short_number(s));
  if (a < 2 * 86400) return fmt::format("{} h", short_number(s / 3600));
  return fmt::format("{} d", short_number(s / 86400));
}

std::string stacked_bar(const std::string& name, const std::vector<Part>& parts,
                        const std::function<std::string(double)>& format_value) {
  double total = 0;
  for (const auto& p : parts) total += std::max(0.0, p.value);
  const int legend_rows = (static_cast<int>(parts.size()) + 2) / 3;
  const double height = 56 + 22.0 * legend_rows;
  std::string out = open_chart(name, height);
  const double x0 = 10, w = kWidth - 20;
  double x = x0;
  for (const auto& p : parts) {
    if (!(p.value > 0) || !(total > 0)) continue;
    const double pw = p.value / total * w;
    out += rect(x, 10, pw, 32, p.colour,
                fmt::format("{}: {} ({:.1f}%)", p.label, format_value(p.value), p.value / total * 100));
    if (pw > 60) out += text(x + pw / 2, 31, fmt::format("{:.0f}%", p.value / total * 100), "middle", "onbar");
    x += pw;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const double lx = x0 + (i % 3) * (w / 3), ly = 62 + 22.0 * (i / 3);
    out += rect(lx, ly - 11, 12, 12, parts[i].colour, "");
    const double share = total > 0 ? parts[i].value / total * 100 : 0;
    out += text(lx + 18, ly, fmt::format("{}  {}  ({:.1f}%)", parts[i].label, format_value(parts[i].value), share));
  }
  return out + "</svg>";
}

std::string bar_chart(const std::string& name, const std::vector<Bar>& bars, const std::string& unit) {
  const double row = 26, height = 20 + row * std::max<std::size_t>(bars.size(), 1);
  std::string out = open_chart(name, height);
  double extent = 1e-12;
  for (const auto& b : bars) extent = std::max(extent, std::abs(b.value));
  // Bars grow left (negative) or right (positive) from a zero line.
  const bool any_negative = std::any_of(bars.begin(), bars.end(), [](const Bar& b) { return b.value < 0; });
  const bool any_positive = std::any_of(bars.begin(), bars.end(), [](const Bar& b) { return b.value > 0; });
  const double plot_x = 250, plot_w = 260;
  const double zero = any_negative && any_positive ? plot_x + plot_w / 2 : any_negative ? plot_x + plot_w : plot_x;
  const double scale = (any_negative && any_positive ? plot_w / 2 : plot_w) / extent;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    const double y = 10 + row * i;
    out += text(plot_x - 8, y + 15, fit_label(b.label, 38), "end");
    const double len = std::abs(b.value) * scale;
    const double x = b.value < 0 ? zero - len : zero;
    out += rect(x, y + 3, len, row - 8, b.value < 0 ? "#009e73" : "#d55e00",
                fmt::format("{}: {:+.2f}{} {}", b.label, b.value, unit, b.note));
    out += text(plot_x + plot_w + 10, y + 15, fit_label(fmt::format("{:+.1f}{}  {}", b.value, unit, b.note), 64));
  }
  out += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="6" y2="{1:.1f}" class="axis"/>)", zero, height - 4);
  return out + "</svg>";
}

std::string line_chart(const std::string& name, const std::vector<Series>& series, const Axes& axes) {
  const double plot_h = 380, left = 70, right = kWidth - 30, top = 14, bottom = plot_h - 50;
  const double height = plot_h + 20.0 * series.size() + 10;
  double x_lo = INFINITY, x_hi = -INFINITY, y_hi = 0;
  for (const auto& s : series)
    for (auto [x, y] : s.points) {
      if (axes.log_x && !(x > 0)) continue;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x), y_hi = std::max(y_hi, y);
    }
  std::string out = open_chart(name, height);
  if (!(x_hi >= x_lo)) return out + text(left, top + 20, "no data") + "</svg>";
  auto tx = [&](double x) { return axes.log_x ? std::log2(x) : x; };
  double a = tx(x_lo), b = tx(x_hi);
  if (b - a < 1e-12) a -= 1, b += 1;
  auto y_ticks = nice_ticks(0, y_hi > 0 ? y_hi * 1.05 : 1, 6);
  if (y_ticks.size() >= 2 && y_ticks.back() < y_hi) y_ticks.push_back(2 * y_ticks.back() - y_ticks[y_ticks.size() - 2]);
  const double y_top = y_ticks.back();
  auto px = [&](double x) { return left + (tx(x) - a) / (b - a) * (right - left); };
  auto py = [&](double y) { return bottom - y / y_top * (bottom - top); };
  for (double t : y_ticks) {
    out += fmt::format(R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/>)", left, right, py(t), py(t));
    out += text(left - 6, py(t) + 4, short_number(t), "end");
  }
  // x ticks: powers of two (log) at most ~10 labels, or round numbers.
  std::vector<double> x_ticks = axes.x_ticks;
  if (!x_ticks.empty()) {
    // as given
  } else if (axes.log_x) {
    const int lo = static_cast<int>(std::ceil(a - 1e-9)), hi = static_cast<int>(std::floor(b + 1e-9));
    const int step = std::max(1, (hi - lo) / 10 + 1);
    for (int e = lo; e <= hi; e += step) x_ticks.push_back(std::exp2(e));
  } else {
    x_ticks = nice_ticks(x_lo, x_hi, 8);
  }
  for (double t : x_ticks) {
    out += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" class="grid"/>)", px(t), top, bottom);
    out += text(px(t), bottom + 16, axes.format_x ? axes.format_x(t) : short_number(t), "middle");
  }
  out += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" class="axis"/>)", left, right, bottom);
  out += fmt::format(R"(<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" class="axis"/>)", left, top, bottom);
  out += text((left + right) / 2, plot_h - 14, axes.x_label, "middle", "axis-label");
  out += fmt::format(
      R"~(<text x="14" y="{:.1f}" text-anchor="middle" class="axis-label" transform="rotate(-90 14 {:.1f})">{}</text>)~",
      (top + bottom) / 2, (top + bottom) / 2, escape(axes.y_label));
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string pts;
    for (auto [x, y] : s.points) {
      if (axes.log_x && !(x > 0)) continue;
      pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    }
    if (!s.markers_only && !pts.empty()) {
      out += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)", pts, s.colour);
    }
    for (auto [x, y] : s.points) {
      if (axes.log_x && !(x > 0)) continue;
      out += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="{}" stroke="{}"><title>{}</title></circle>)",
                         px(x), py(y), s.markers_only ? 5 : 3, s.markers_only ? "white" : s.colour, s.colour,
                         escape(fmt::format("{}: {} -> {}", s.name, axes.format_x ? axes.format_x(x) : short_number(x),
                                            short_number(y))));
    }
    const double ly = plot_h + 6 + 20.0 * k;
    out += fmt::format(R"(<circle cx="{}" cy="{:.1f}" r="5" fill="{}" stroke="{}"/>)", left + 6, ly,
                       s.markers_only ? "white" : s.colour, s.colour);
    out += text(left + 18, ly + 4, s.name);
  }
  return out + "</svg>";
}

std::string heat_map(const std::string& name, const std::vector<HeatRow>& rows, double t_end_s) {
  const double row = 20, top = 8, right = kWidth - 60;
  const double height = top + row * rows.size() + 60;
  std::string out = open_chart(name, height);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& hr = rows[r];
    const double y = top + row * r;
    out += fmt::format(R"(<g>{}<title>{}</title></g>)", text(kLabelWidth - 6, y + 14, fit_label(hr.label, 30), "end"),
                       escape(hr.label));
    const double n = static_cast<double>(hr.values.size());
    for (std::size_t i = 0; i < hr.values.size(); ++i) {
      const double x = kLabelWidth + (right - kLabelWidth) * i / n;
      out += rect(x, y, (right - kLabelWidth) / n + 0.3, row - 2, heat_colour(hr.values[i]),
                  fmt::format("{}: {:.0f}% from {} to {}", hr.label, hr.values[i] * 100,
                              format_seconds(t_end_s * i / n), format_seconds(t_end_s * (i + 1) / n)));
    }
  }
  const double axis_y = top + row * rows.size() + 4;
  for (double t : nice_ticks(0, t_end_s, 8)) {
    const double x = kLabelWidth + (right - kLabelWidth) * (t_end_s > 0 ? t / t_end_s : 0);
    out += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" class="axis"/>)", x, axis_y,
                       axis_y + 5);
    out += text(x, axis_y + 18, format_seconds(t), "middle");
  }
  // Colour scale.
  const double sy = axis_y + 30;
  out += text(kLabelWidth - 6, sy + 10, "utilisation", "end");
  for (int i = 0; i <= 10; ++i) {
    out += rect(kLabelWidth + i * 30, sy, 30, 12, heat_colour(i / 10.0), "");
    if (i % 5 == 0) out += text(kLabelWidth + i * 30 + 15, sy + 24, fmt::format("{}%", i * 10), "middle");
  }
  return out + "</svg>";
}

std::string gantt(const std::string& name, const std::vector<GanttRow>& rows, double t_end_s,
                  const std::vector<std::string>& categories) {
  const double row = 18, top = 8, right = kWidth - 20;
  const double height = top + row * rows.size() + 56;
  const int columns = static_cast<int>(right - kLabelWidth);  // one per pixel
  const double col_s = t_end_s > 0 ? t_end_s / columns : 1;
  std::string out = open_chart(name, height);
  auto px = [&](double t) { return kLabelWidth + (right - kLabelWidth) * (t_end_s > 0 ? t / t_end_s : 0); };
  const std::size_t ncat = categories.size();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = top + row * r;
    out += text(kLabelWidth - 6, y + 13, fit_label(rows[r].label, 30), "end");
    out += rect(kLabelWidth, y, right - kLabelWidth, row - 3, "#f4f6fb", "");
    // Time per category in each pixel column.
    std::vector<double> busy(static_cast<std::size_t>(columns) * ncat, 0.0);
    for (const auto& b : rows[r].boxes) {
      if (b.category < 0 || static_cast<std::size_t>(b.category) >= ncat || !(b.t1 > b.t0)) continue;
      const int c0 = std::clamp(static_cast<int>(b.t0 / col_s), 0, columns - 1);
      const int c1 = std::clamp(static_cast<int>(b.t1 / col_s), 0, columns - 1);
      for (int c = c0; c <= c1; ++c) {
        const double overlap = std::min(b.t1, (c + 1) * col_s) - std::max(b.t0, c * col_s);
        if (overlap > 0) busy[static_cast<std::size_t>(c) * ncat + static_cast<std::size_t>(b.category)] += overlap;
      }
    }
    // Each column: one bar per category, its height the category's share of
    // the column's time, in steps of 1/kLevels of the row; equal
    // neighbouring columns merge into one rectangle.
    constexpr int kLevels = 12;
    const double bar_h = row - 3;
    auto level = [&](int c, std::size_t k) {
      return static_cast<int>(std::lround(busy[static_cast<std::size_t>(c) * ncat + k] / col_s * kLevels));
    };
    auto same = [&](int a, int b) {
      for (std::size_t k = 0; k < ncat; ++k)
        if (level(a, k) != level(b, k)) return false;
      return true;
    };
    for (int c = 0; c < columns;) {
      int e = c + 1;
      while (e < columns && same(c, e)) ++e;
      double y_k = y + bar_h;  // stack from the bottom
      std::string title;
      for (std::size_t k = 0; k < ncat; ++k) {
        const int lv = level(c, k);
        if (lv > 0) title += fmt::format("{}{} {}%", title.empty() ? "" : ", ", categories[k], lv * 100 / kLevels);
      }
      for (std::size_t k = 0; k < ncat; ++k) {
        const int lv = std::min(level(c, k), kLevels);
        if (lv <= 0) continue;
        const double h = bar_h * lv / kLevels;
        y_k -= h;
        out += rect(px(c * col_s), std::max(y, y_k), px(e * col_s) - px(c * col_s), h,
                    category_colour(static_cast<int>(k)),
                    fmt::format("{}, {} to {}: {}", rows[r].label, format_seconds(c * col_s), format_seconds(e * col_s),
                                title));
      }
      c = e;
    }
  }
  const double axis_y = top + row * rows.size() + 2;
  for (double t : nice_ticks(0, t_end_s, 8)) {
    out += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" class="axis"/>)", px(t), axis_y,
                       axis_y + 5);
    out += text(px(t), axis_y + 18, format_seconds(t), "middle");
  }
  for (std::size_t c = 0; c < ncat; ++c) {
    const double lx = kLabelWidth + 110.0 * c, ly = axis_y + 40;
    out += rect(lx, ly - 10, 12, 12, category_colour(static_cast<int>(c)), "");
    out += text(lx + 16, ly, categories[c]);
  }
  return out + "</svg>";
}

}  // namespace collsim::report::svg

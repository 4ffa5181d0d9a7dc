#include "sim/report/floor_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "sim/report/svg.h"
#include "sim/units/units.h"

namespace collsim::report {

namespace {

constexpr double kWidth = 960;

// Per file link: its cable's length (0 when it is not a cable) and medium as
// built (`auto` resolved; empty when it is not a cable or is down).
struct Cables {
  std::vector<double> length;
  std::vector<std::string> medium;
};
Cables cables_of(const config::TopologySpec& spec, const topology::Topology& topo) {
  Cables c{std::vector<double>(spec.links.size(), 0.0), std::vector<std::string>(spec.links.size())};
  for (auto [e, end] = boost::edges(topo.graph); e != end; ++e) {
    const auto& l = topo.graph[*e];
    if (l.spec_index < 0 || l.medium.empty()) continue;
    c.length[static_cast<std::size_t>(l.spec_index)] = l.length_m;
    c.medium[static_cast<std::size_t>(l.spec_index)] = l.medium;
  }
  return c;
}

struct Bundle {
  int cables = 0;
  double total_m = 0, max_m = 0, max_util = 0, sum_util = 0;
  std::map<std::string, int> media;  // cables per medium
  // The medium most of its cables are.
  std::string main_medium() const {
    auto it =
        std::max_element(media.begin(), media.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return it == media.end() ? std::string() : it->first;
  }
};

// Cables by medium: copper warm, optics cool; others grey.
std::string medium_colour(const std::string& medium) {
  if (medium == "dac" || medium == "copper") return "#e08a2c";
  if (medium == "aec") return "#a2532d";
  if (medium == "aoc") return "#8a63b8";
  if (medium == "fibre") return "#2b7bba";
  return "#8c8c8c";
}

}  // namespace

std::vector<double> cable_utilisation(const topology::Network& network, const std::vector<double>& link_bytes,
                                      double step_s, std::size_t spec_links) {
  std::vector<double> u(spec_links, 0.0);
  if (!(step_s > 0)) return u;
  const auto& links = network.links();
  for (std::size_t l = 0; l < links.size() && l < link_bytes.size(); ++l) {
    if (!(links[l].rate_Bps > 0)) continue;
    // Merged twins and parallel links carry shares in proportion to their
    // rates, so each runs at the aggregate's utilisation.
    const double util = link_bytes[l] / (links[l].rate_Bps * step_s);
    for (int s : network.spec_links(static_cast<int>(l)))
      u[static_cast<std::size_t>(s)] = std::max(u[static_cast<std::size_t>(s)], util);
  }
  return u;
}

std::string floor_plan_svg(const config::TopologySpec& spec, const topology::Topology& topo,
                           const std::vector<double>& utilisation, const std::vector<std::string>& labels) {
  const bool by_label = !labels.empty();
  const bool by_util = !utilisation.empty() && !by_label;
  std::map<std::string, int> label_index;  // sorted: "job 1" < "job 2" < "shared"
  for (const auto& l : labels)
    if (!l.empty()) label_index.try_emplace(l, 0);
  int next = 0;
  for (auto& [l, k] : label_index) k = next++;
  // A bundle of cables with different labels is "mixed" (its title counts them).
  const std::string kMixed = "mixed: cables of several labels";
  bool drew_mixed = false;
  auto label_colour = [&](const std::string& l) {
    return svg::category_colour(l == kMixed ? static_cast<int>(label_index.size()) : label_index[l]);
  };
  if (spec.racks.empty()) {
    return svg::open_chart("floor-plan", 40) +
           R"(<text x="10" y="24">No floor plan: this topology places no device in a rack (docs/topology-format.md, "Floor plan").</text></svg>)";
  }
  const Cables built = cables_of(spec, topo);
  const auto& length = built.length;
  const auto& floor = spec.floor;
  int max_slot = 0, max_row = 0;
  for (const auto& r : spec.racks) max_slot = std::max(max_slot, r.slot), max_row = std::max(max_row, r.row);
  const double span_x = (max_slot + 1) * floor.rack_pitch_m, span_y = max_row * floor.row_pitch_m + 1.2;
  const double margin = 30;
  const double scale = std::min(120.0, (kWidth - 2 * margin) / span_x);  // px per metre
  const double rack_w = floor.rack_pitch_m * scale * 0.92, rack_d = std::min(1.2, floor.row_pitch_m * 0.5) * scale;
  const double plan_h = span_y * scale + 2 * margin;
  const double height = plan_h + 70;
  auto cx = [&](const config::RackSpec& r) { return margin + (r.slot + 0.5) * floor.rack_pitch_m * scale; };
  auto cy = [&](const config::RackSpec& r) { return margin + r.row * floor.row_pitch_m * scale + rack_d / 2; };

  // What stands in each rack, and the cables inside each and between each pair.
  std::vector<std::map<std::string, int>> contents(spec.racks.size());
  for (const auto& d : spec.devices)
    if (d.rack >= 0) ++contents[static_cast<std::size_t>(d.rack)][config::to_string(d.kind)];
  std::vector<Bundle> inside(spec.racks.size());
  std::map<std::pair<int, int>, Bundle> between;
  double longest = 0;
  int unplaced = 0;
  for (std::size_t i = 0; i < spec.links.size(); ++i) {
    const auto& l = spec.links[i];
    const int ra = spec.devices[static_cast<std::size_t>(l.a)].rack,
              rb = spec.devices[static_cast<std::size_t>(l.b)].rack;
    const bool cable = !l.medium.empty();
    const int lanes = std::max(1, l.lanes);  // a bundle is that many cables (as topo counts them)
    if (ra < 0 || rb < 0) {
      unplaced += cable ? lanes : 0;
      continue;
    }
    Bundle& b = ra == rb ? inside[static_cast<std::size_t>(ra)] : between[{std::min(ra, rb), std::max(ra, rb)}];
    if (!cable && !by_util) continue;  // on-board wiring: only its utilisation is of interest
    if (by_label && labels[i].empty()) continue;
    const double u = by_util ? utilisation[i] : 0;
    b.cables += lanes;
    b.total_m += lanes * length[i];
    b.max_m = std::max(b.max_m, length[i]);
    b.max_util = std::max(b.max_util, u);
    b.sum_util += lanes * u;
    if (by_label)
      b.media[labels[i]] += lanes;
    else if (cable && !built.medium[i].empty())
      b.media[built.medium[i]] += lanes;
    longest = std::max(longest, length[i]);
  }
  std::set<std::string> drawn_media;
  auto colour_of = [&](const Bundle& b) {
    if (by_util) return svg::heat_colour(b.max_util);
    if (by_label) {
      if (b.media.size() > 1) drew_mixed = true;
      return label_colour(b.media.size() > 1 ? kMixed : b.main_medium());
    }
    drawn_media.insert(b.main_medium());
    return medium_colour(b.main_medium());
  };

  std::string out = svg::open_chart(by_label  ? "floor-plan-labels"
                                    : by_util ? "floor-plan-utilisation"
                                              : "floor-plan",
                                    height);
  out += fmt::format(R"(<rect x="0" y="0" width="{}" height="{:.0f}" fill="#fbfbf8"/>)", kWidth, plan_h);
  // Bundles between racks under the racks; the width grows with the count.
  for (const auto& [pair, b] : between) {
    if (b.cables == 0) continue;
    const auto& ra = spec.racks[static_cast<std::size_t>(pair.first)];
    const auto& rb = spec.racks[static_cast<std::size_t>(pair.second)];
    std::string media;
    for (const auto& [m, n] : b.media) media += fmt::format("{}{} {}", media.empty() ? "" : ", ", n, m);
    const std::string title =
        by_util    ? fmt::format("{} - {}: {} links, utilisation max {:.1f}% mean {:.1f}%, longest {:.2f} m", ra.name,
                                 rb.name, b.cables, b.max_util * 100, b.sum_util / b.cables * 100, b.max_m)
        : by_label ? fmt::format("{} - {}: {} cables carrying traffic ({})", ra.name, rb.name, b.cables, media)
                   : fmt::format("{} - {}: {} cables ({}), {:.1f} m in all, longest {:.2f} m", ra.name, rb.name,
                                 b.cables, media, b.total_m, b.max_m);
    // A dark casing under the coloured line keeps idle (pale) bundles visible.
    const double width = 1.5 + std::log2(1.0 + b.cables);
    out += fmt::format(
        R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#6b7080" stroke-width="{:.1f}" stroke-linecap="round"/>)",
        cx(ra), cy(ra), cx(rb), cy(rb), width + 2);
    out += fmt::format(
        R"(<line class="cable" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="{:.1f}" )"
        R"(stroke-linecap="round"><title>{}</title></line>)",
        cx(ra), cy(ra), cx(rb), cy(rb), colour_of(b), width, svg::escape(title));
  }
  for (std::size_t r = 0; r < spec.racks.size(); ++r) {
    const auto& rack = spec.racks[r];
    std::string what;
    for (const auto& [kind, n] : contents[r]) what += fmt::format("{}{} {}", what.empty() ? "" : ", ", n, kind);
    const Bundle& b = inside[r];
    std::string title =
        fmt::format("{} (row {}, slot {}): {}", rack.name, rack.row, rack.slot, what.empty() ? "empty" : what);
    if (by_util && b.cables > 0)
      title += fmt::format("; links inside: utilisation max {:.1f}%", b.max_util * 100);
    else if (b.cables > 0)
      title += fmt::format("; {} cables inside, {:.1f} m", b.cables, b.total_m);
    const std::string fill =
        by_util ? svg::heat_colour(b.max_util) : (contents[r].count("gpu") ? "#dbe7f3" : "#e8e3f1");
    out += fmt::format(
        R"(<rect class="rack" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" stroke="#44475a" stroke-width="1"><title>{}</title></rect>)",
        cx(rack) - rack_w / 2, cy(rack) - rack_d / 2, rack_w, rack_d, fill, svg::escape(title));
    if (rack_w >= 28) {
      out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" class="small">{}</text>)", cx(rack),
                         cy(rack) + 4, svg::escape(rack.name.size() * 6.0 <= rack_w ? rack.name : std::to_string(r)));
    }
  }
  // Legend.
  const double ly = plan_h + 14;
  out += fmt::format(
      R"(<text x="10" y="{:.0f}">{}</text>)", ly + 10,
      svg::escape(by_label  ? "Cables between racks that carry traffic (one line per pair of racks, wider = more "
                              "cables), coloured by whose traffic most of them carry."
                  : by_util ? "Cables between racks (one line per pair of racks, wider = more links), "
                              "coloured by the busiest link's utilisation over the step; racks by their "
                              "busiest link inside."
                            : fmt::format("Cables between racks (one line per pair of racks, wider = more cables), "
                                          "coloured by the medium most of them are; the longest is {:.1f} m "
                                          "(hover a line for its lengths).",
                                          longest)));
  if (by_util) {
    for (int i = 0; i <= 10; ++i) {
      out += fmt::format(R"(<rect x="{}" y="{:.0f}" width="30" height="12" fill="{}"/>)", 10 + i * 30, ly + 22,
                         svg::heat_colour(i / 10.0));
    }
    out += fmt::format(
        R"(<text x="10" y="{:.0f}" class="small">idle</text><text x="340" y="{:.0f}" class="small" text-anchor="end">100%</text>)",
        ly + 48, ly + 48);
  } else if (by_label) {
    double x = 10;
    std::vector<std::string> keys;
    for (const auto& [l, k] : label_index) keys.push_back(l);
    if (drew_mixed) keys.push_back(kMixed);
    for (const auto& l : keys) {
      out += fmt::format(R"(<rect class="label-key" x="{:.0f}" y="{:.0f}" width="30" height="12" fill="{}"/>)", x,
                         ly + 22, label_colour(l));
      out += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" class="small">{}</text>)", x + 36, ly + 32, svg::escape(l));
      x += l == kMixed ? 240 : 110;
    }
  } else {
    double x = 10;
    for (const auto& m : drawn_media) {
      out += fmt::format(R"(<rect class="medium-key" x="{:.0f}" y="{:.0f}" width="30" height="12" fill="{}"/>)", x,
                         ly + 22, medium_colour(m));
      out += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" class="small">{}</text>)", x + 36, ly + 32, svg::escape(m));
      x += 110;
    }
  }
  if (unplaced > 0) {
    out += fmt::format(
        R"(<text x="360" y="{:.0f}" class="small">{} cables have an end outside any rack (not drawn).</text>)", ly + 48,
        unplaced);
  }
  return out + "</svg>";
}

std::string tiers_svg(const config::TopologySpec& spec, const topology::Topology& topo) {
  // Hops from the nearest GPU, breadth first over the cables (either way).
  const std::size_t n = spec.devices.size();
  std::vector<std::vector<int>> adj(n);
  for (const auto& l : spec.links) {
    adj[static_cast<std::size_t>(l.a)].push_back(l.b);
    adj[static_cast<std::size_t>(l.b)].push_back(l.a);
  }
  std::vector<int> tier(n, -1);
  std::vector<int> queue;
  for (std::size_t d = 0; d < n; ++d)
    if (spec.devices[d].kind == config::DeviceKind::kGpu) tier[d] = 0, queue.push_back(static_cast<int>(d));
  for (std::size_t q = 0; q < queue.size(); ++q)
    for (int v : adj[static_cast<std::size_t>(queue[q])])
      if (tier[static_cast<std::size_t>(v)] < 0) {
        tier[static_cast<std::size_t>(v)] = tier[static_cast<std::size_t>(queue[q])] + 1;
        queue.push_back(v);
      }
  // Groups: (tier, kind).
  std::map<std::pair<int, std::string>, int> group_of_key;
  std::vector<std::pair<int, std::string>> groups;
  std::vector<int> members;
  std::vector<int> group(n);
  for (std::size_t d = 0; d < n; ++d) {
    auto key = std::make_pair(tier[d], std::string(config::to_string(spec.devices[d].kind)));
    auto [it, fresh] = group_of_key.try_emplace(key, static_cast<int>(groups.size()));
    if (fresh) groups.push_back(key), members.push_back(0);
    group[d] = it->second;
    ++members[static_cast<std::size_t>(it->second)];
  }
  struct Edge {
    int links = 0;
    double rate_Bps = 0;
    std::set<std::string> classes;
  };
  std::map<std::pair<int, int>, Edge> edges;
  for (const auto& l : spec.links) {
    int ga = group[static_cast<std::size_t>(l.a)], gb = group[static_cast<std::size_t>(l.b)];
    if (ga > gb) std::swap(ga, gb);
    auto& e = edges[{ga, gb}];
    ++e.links;
    e.rate_Bps += l.rate_Bps;
    e.classes.insert(l.link_class);
  }
  // Layout: one row per tier, the top tier first; groups spread along it.
  std::map<int, std::vector<int>> by_tier;
  for (std::size_t g = 0; g < groups.size(); ++g) by_tier[groups[g].first].push_back(static_cast<int>(g));
  const double row_h = 110, box_w = 190, box_h = 46;
  const double height = 30 + row_h * by_tier.size();
  std::vector<double> gx(groups.size()), gy(groups.size());
  int row = 0;
  for (auto it = by_tier.rbegin(); it != by_tier.rend(); ++it, ++row) {
    const auto& gs = it->second;
    for (std::size_t k = 0; k < gs.size(); ++k) {
      gx[static_cast<std::size_t>(gs[k])] = kWidth * (k + 1) / (gs.size() + 1);
      gy[static_cast<std::size_t>(gs[k])] = 20 + row * row_h + box_h / 2;
    }
  }
  std::string out = svg::open_chart("tiers", height);
  for (const auto& [pair, e] : edges) {
    const auto a = static_cast<std::size_t>(pair.first), b = static_cast<std::size_t>(pair.second);
    std::string classes;
    for (const auto& c : e.classes) classes += (classes.empty() ? "" : "/") + c;
    const std::string label =
        fmt::format("{} x {} {}", e.links, units::format(units::Rate{e.rate_Bps / e.links}), classes);
    if (a == b) {  // links inside a group (e.g. switch to switch in one tier)
      out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" class="small">{} (within)</text>)", gx[a],
                         gy[a] + box_h / 2 + 14, svg::escape(label));
      continue;
    }
    out += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="link"><title>{}</title></line>)",
                       gx[a], gy[a], gx[b], gy[b], svg::escape(label));
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" class="small edge-label">{}</text>)",
                       (gx[a] + gx[b]) / 2, (gy[a] + gy[b]) / 2 + 4, svg::escape(label));
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& [t, kind] = groups[g];
    out += fmt::format(
        R"(<rect class="device-group" x="{:.1f}" y="{:.1f}" width="{}" height="{}" rx="6" fill="{}" stroke="#44475a"/>)",
        gx[g] - box_w / 2, gy[g] - box_h / 2, box_w, box_h, kind == "gpu" ? "#dbe7f3" : "#eef0f4");
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{} x {}</text>)", gx[g], gy[g] - 3,
                       members[g], svg::escape(kind));
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" class="small">{}</text>)", gx[g], gy[g] + 14,
                       t < 0 ? "not connected to a GPU" : fmt::format("{} hop{} from a GPU", t, t == 1 ? "" : "s"));
  }
  (void)topo;
  return out + "</svg>";
}

std::string topology_svg_document(const config::TopologySpec& spec, const topology::Topology& topo) {
  // Two drawings stacked in one SVG document, with the shared styles.
  const std::string plan = floor_plan_svg(spec, topo), tiers = tiers_svg(spec, topo);
  auto height_of = [](const std::string& s) {
    const auto p = s.find("height=\"");
    return p == std::string::npos ? 0.0 : std::atof(s.c_str() + p + 8);
  };
  const double h1 = height_of(plan), h2 = height_of(tiers);
  std::string out = fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      "\n"
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{:.0f}" viewBox="0 0 {} {:.0f}" font-family="sans-serif" font-size="12">)"
      "\n<style>.small{{font-size:10px}} .link{{stroke:#8a8fa3;stroke-width:1.5}} "
      ".edge-label{{paint-order:stroke;stroke:#fff;stroke-width:3px}}</style>\n",
      kWidth, h1 + h2 + 70, kWidth, h1 + h2 + 70);
  out += fmt::format(R"(<text x="10" y="22" font-size="16">{}: floor plan and tiers</text>)", svg::escape(spec.name));
  out += fmt::format(R"~(<g transform="translate(0 34)">{}</g>)~", plan);
  out += fmt::format(R"~(<g transform="translate(0 {:.0f})">{}</g>)~", 44 + h1, tiers);
  return out + "\n</svg>\n";
}

}  // namespace collsim::report

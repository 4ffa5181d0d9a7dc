// The bill of materials, cables by reach and a step's energy (issue 18,
// sim/topology/bill_of_materials.h). Oracles: a two-rack layout priced by
// hand, the catalog's own reach table, published rack power, and energy as
// the integral of each GPU's power over the simulated step.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "sim/config/gpu_models.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/report/bill_report.h"
#include "sim/topology/bill_of_materials.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "test_support.h"
#include "workload_support.h"

namespace collsim::topology {
namespace {

// Two racks in row 0: r0 (slot 0) holds 2 GPUs (u10) and their NICs
// (u12); r1 (slot `leaf_slot`) the leaf (u40). Every part it uses is
// priced here, so the bill does not move with the shipped catalog.
// NIC-to-leaf cable, by the floor rules (docs/topology-format.md):
//   heights (u - 0.5) x 44.45 mm: NIC 0.511175 m, leaf 1.755775 m;
//   up (2 - 0.511175 + 0.3) + (2 - 1.755775 + 0.3) = 2.33305 m;
//   along 3 slots x 0.6 m = 1.8 m; slack 1 m: 5.13305 m.
std::string two_racks(int leaf_slot, const std::string& leaf_rack = "r1") {
  return R"(name: two-racks
catalog:
  racks: {air: {budget: 50kW}}
  parts:
    - {name: h100-sxm, power: 500W, idle_power: 100W, price: 1000}
    - {name: connectx-7, power: 20W, price: 100}
    - {name: quantum-2-qm9700, power: 700W, price: 5000}
    - {name: dac-400g, reach: 3m, power: 0.1W, price: 150}
    - {name: acc-400g, reach: 5m, power: 1.5W, price: 400}
    - {name: sr4-400g, reach: 50m, power: 8W, price: 1000, price_per_m: 2}
    - {name: dr4-400g, reach: 100m, power: 9W, price: 1400, price_per_m: 1}
    - {name: fr4-400g, reach: 2km, power: 9W, price: 2000, price_per_m: 1}
racks:
  - {name: r0, row: 0, slot: 0, power_budget: 1kW}
  - {name: r1, row: 0, slot: )" +
         std::to_string(leaf_slot) + R"(}
devices:
  - {name: gpu, kind: gpu, count: 2, model: h100, rack: r0, u: 10}
  - {name: nic, kind: nic, count: 2, rack: r0, u: 12}
  - {name: leaf, kind: switch, rack: )" +
         leaf_rack + R"(, u: 40}
links:
  - {from: gpu, to: nic, pattern: zip, rate: 50GB/s, latency: 500ns, class: pcie}
  - {from: nic, to: leaf, rate: 400Gb/s, latency: 150ns, medium: auto, class: infiniband}
)";
}

config::TopologySpec spec_of(const std::string& yaml) {
  auto spec = config::load_topology_text(yaml, "two-racks.yaml", {});
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  return spec.ok() ? *spec : config::TopologySpec{};
}

const BomLine* line_of(const BillOfMaterials& b, const std::string& part) {
  for (const auto& l : b.lines)
    if (l.part == part) return &l;
  return nullptr;
}

TEST(Bill, TwoRacksPricedByHand) {
  const auto bom = bill_of_materials(spec_of(two_racks(3)));
  ASSERT_TRUE(bom.ok()) << bom.error().to_string();
  const double length = 5.13305;
  // 5.13 m is past copper's 3 and 5 m: the cheapest that reaches is SR4.
  const BomLine* cable = line_of(*bom, "sr4-400g");
  ASSERT_NE(cable, nullptr);
  EXPECT_EQ(cable->count, 2);
  EXPECT_NEAR(cable->metres, 2 * length, 1e-9);
  EXPECT_NEAR(cable->watts, 2 * 2 * 8.0, 1e-9);  // a transceiver at each end
  EXPECT_NEAR(cable->usd, 2 * (1000 + 2 * length), 1e-9);
  ASSERT_NE(line_of(*bom, "h100-sxm"), nullptr);
  EXPECT_EQ(line_of(*bom, "h100-sxm")->count, 2);
  // The NIC: the cheapest at least as fast as its 400G cable; the leaf: the
  // cheapest InfiniBand switch with 2 ports of 400G (not the Ethernet one).
  ASSERT_NE(line_of(*bom, "connectx-7"), nullptr);
  ASSERT_NE(line_of(*bom, "quantum-2-qm9700"), nullptr);
  EXPECT_TRUE(bom->unpriced.empty());
  EXPECT_NEAR(bom->it_watts, 2 * 500 + 2 * 20 + 700 + 32, 1e-9);
  EXPECT_NEAR(bom->usd, 2 * 1000 + 2 * 100 + 5000 + 2 * (1000 + 2 * length), 1e-9);
  EXPECT_NEAR(bom->gpu_watts, 1000, 1e-9);
  EXPECT_NEAR(bom->gpu_idle_watts, 200, 1e-9);
  // Each rack carries its devices and the cable ends in it.
  ASSERT_EQ(bom->racks.size(), 2u);
  EXPECT_NEAR(bom->racks[0].watts, 1000 + 40 + 2 * 8, 1e-9);
  EXPECT_NEAR(bom->racks[1].watts, 700 + 2 * 8, 1e-9);
  EXPECT_TRUE(bom->racks[0].over_budget());        // its own 1 kW
  EXPECT_DOUBLE_EQ(bom->racks[1].budget_W, 50e3);  // the catalog's air-cooled budget
  EXPECT_FALSE(bom->racks[1].over_budget());
}

TEST(Bill, MovingARackChangesTheMedium) {
  // 97 slots further: 63.33 m, past multimode's 50 m: single-mode DR4.
  auto far = bill_of_materials(spec_of(two_racks(100)));
  ASSERT_TRUE(far.ok());
  ASSERT_NE(line_of(*far, "dr4-400g"), nullptr);
  EXPECT_NEAR(line_of(*far, "dr4-400g")->usd, 2 * (1400 + 5.13305 + 97 * 0.6), 1e-9);
  // In the same rack: |1.755775 - 0.511175| + 1 m slack = 2.2446 m of passive copper.
  const auto near_spec = spec_of(two_racks(3, "r0"));
  auto near = bill_of_materials(near_spec);
  ASSERT_TRUE(near.ok());
  ASSERT_NE(line_of(*near, "dac-400g"), nullptr);
  EXPECT_NEAR(line_of(*near, "dac-400g")->metres, 2 * 2.2446, 1e-9);
  // The latency follows the medium: copper's delay per metre, not fibre's.
  auto topo = build_topology(near_spec);
  ASSERT_TRUE(topo.ok());
  for (auto [e, end] = boost::edges(topo->graph); e != end; ++e) {
    const auto& l = topo->graph[*e];
    if (l.length_m == 0) continue;
    EXPECT_EQ(l.medium, "dac");
    EXPECT_NEAR(l.latency_s, 150e-9 + 2.2446 * near_spec.media.at("dac").delay_s_per_m, 1e-15);
  }
}

TEST(Bill, NoCableReachesIsAnErrorNamingTheLink) {
  // 3,497 slots away: 2,103 m, past the longest single-mode optics (2 km).
  auto spec = config::load_topology_text(two_racks(3500), "two-racks.yaml", {});
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = build_topology(*spec);
  ASSERT_FALSE(topo.ok());
  EXPECT_NE(topo.error().message.find("no cable in the catalog carries 50 GB/s from 'nic0' to 'leaf'"),
            std::string::npos)
      << topo.error().message;
  EXPECT_NE(topo.error().message.find("the longest at that rate reaches 2 km"), std::string::npos)
      << topo.error().message;
  // The length came from the floor plan: the error says from where, so a
  // pitch overridden with --set is found.
  EXPECT_NE(topo.error().message.find("the floor plan's route from rack 'r0' (row 0, slot 0) to 'r1' (row 0, slot "
                                      "3500) at floor.rack_pitch 60 cm and floor.row_pitch 2.4 m"),
            std::string::npos)
      << topo.error().message;
}

TEST(Bill, AutoCablesFasterThanAnyInTheCatalogAreUnpricedFibre) {
  // 3.2 Tb/s NICs (a what-if beyond the catalog): the topology still builds,
  // its cables are fibre, and the bill says it could not price them.
  std::string yaml = two_racks(3);
  yaml.replace(yaml.find("rate: 400Gb/s"), 13, "rate: 3200Gb/s");
  const auto spec = spec_of(yaml);
  auto topo = build_topology(spec);
  ASSERT_TRUE(topo.ok()) << topo.error().to_string();
  for (auto [e, end] = boost::edges(topo->graph); e != end; ++e) {
    if (topo->graph[*e].length_m > 0) {
      EXPECT_EQ(topo->graph[*e].medium, "fibre");
    }
  }
  auto bom = bill_of_materials(spec);
  ASSERT_TRUE(bom.ok());
  EXPECT_EQ(bom->unpriced.at("cable (fibre)"), 2);
  EXPECT_EQ(bom->unpriced.at("nic"), 2);  // no catalog NIC is that fast either
}

TEST(Bill, CatalogErrorsNameTheEntry) {
  // A cable of a medium that does not exist; a part whose kind changes to
  // one its fields do not fit (a cable made a switch without ports).
  auto error_of = [](const std::string& catalog) {
    auto s =
        config::load_topology_text("name: t\ncatalog:\n  parts:\n" + catalog +
                                       "devices:\n  - {name: g, kind: gpu, count: 2}\n  - {name: s, kind: switch}\n"
                                       "links:\n  - {from: g, to: s, rate: 1GB/s, latency: 0s, class: ideal}\n",
                                   "t.yaml", {});
    EXPECT_FALSE(s.ok());
    return s.ok() ? std::string() : s.error().to_string();
  };
  EXPECT_NE(error_of("    - {name: x, kind: cable, medium: fbre, rate: 400Gb/s, reach: 9m, power: 1W, price: 9, "
                     "source: t}\n")
                .find("t.yaml:4:7: field 'catalog.parts.medium': cable 'x' has medium 'fbre', which is not a medium "
                      "(did you mean 'fibre'?)"),
            std::string::npos);
  EXPECT_NE(error_of("    - {name: dac-400g, kind: switch}\n").find("switch part 'dac-400g' needs its port count"),
            std::string::npos);
}

// The shipped air-cooled templates stack 4 nodes a rack, as NVIDIA's
// reference layouts do (four DGX B300 to a standard rack, about 56 kW:
// NVIDIA DGX SuperPOD B300 XDR reference architecture): the catalog's
// default air budget must hold such a rack, which 40 kW did not (4 HGX
// H100 nodes drew 41.1 kW, 4 HGX B200 57.5).
TEST(Bill, ShippedAirCooledTemplatesFitTheDefaultRackBudget) {
  for (const char* file : {"h100-ib400-128node.yaml", "aws-p5-efa-16node.yaml", "gcp-a4-roce-16node.yaml"}) {
    auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/" + file, {});
    ASSERT_TRUE(spec.ok()) << file;
    auto bom = bill_of_materials(*spec);
    ASSERT_TRUE(bom.ok()) << bom.error().to_string();
    ASSERT_FALSE(bom->racks.empty()) << file;
    double busiest = 0;
    for (const auto& rack : bom->racks) {
      EXPECT_EQ(rack.cooling, "air") << file << " " << rack.rack;
      EXPECT_FALSE(rack.over_budget()) << file << " " << rack.rack << ": " << rack.watts << " W of " << rack.budget_W;
      busiest = std::max(busiest, rack.watts);
    }
    // A compute rack holds four nodes of 8 GPUs at 700-1000 W each.
    EXPECT_GT(busiest, 4 * 8 * 700.0) << file;
  }
}

TEST(Bill, Gb200Nvl72RackAgainstNvidiasFigure) {
  // The built-in catalog's parts, added up bottom-up for one NVL72 rack
  // (72 GPUs at 1200 W, 36 Grace, 18 NVSwitch chips, 72 NICs, their cable
  // ends), against the rack's published 120 kW (ServeTheHome, GTC 2024).
  // Not modelled: BlueField DPUs, drives, fans, conversion losses: below it.
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml", {});
  ASSERT_TRUE(spec.ok());
  auto bom = bill_of_materials(*spec);
  ASSERT_TRUE(bom.ok()) << bom.error().to_string();
  const auto& rack0 = bom->racks.front();
  EXPECT_EQ(rack0.cooling, "liquid");
  EXPECT_NEAR(rack0.watts / 120e3, 1.0, 0.15) << rack0.watts;
  EXPECT_FALSE(rack0.over_budget());
  ASSERT_NE(line_of(*bom, "gb200-nvl72-rack"), nullptr);
  EXPECT_EQ(line_of(*bom, "gb200-nvl72-rack")->copper_cables, 8 * 72 * 18 * 4);  // NVIDIA: 5,184 per rack
  EXPECT_TRUE(bom->unpriced.empty());
}

// A rack partitioned into smaller NVLink domains (cluster.domain_gpus) is
// the same hardware (NVIDIA's fabric manager sets the partitions): its
// power and price, and the NVSwitch chips drawn, stay the whole rack's
// (conservation; a partition into 4-GPU domains once billed 324 chips and
// 164.5 kW to one rack).
TEST(Bill, APartitionedNvl72RackIsTheSameHardware) {
  const std::string file = std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml";
  auto whole_spec = config::load_topology_file(file, {});
  ASSERT_TRUE(whole_spec.ok());
  auto whole = bill_of_materials(*whole_spec);
  ASSERT_TRUE(whole.ok());
  for (int d : {36, 8, 4}) {
    auto spec = config::load_topology_file(file, {"cluster.domain_gpus=" + std::to_string(d)});
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    auto bom = bill_of_materials(*spec);
    ASSERT_TRUE(bom.ok()) << bom.error().to_string();
    EXPECT_DOUBLE_EQ(bom->it_watts, whole->it_watts) << d;
    EXPECT_DOUBLE_EQ(bom->usd, whole->usd) << d;
    EXPECT_DOUBLE_EQ(bom->racks.front().watts, whole->racks.front().watts) << d;
    ASSERT_NE(line_of(*bom, "nvl72-nvswitch"), nullptr);
    EXPECT_EQ(line_of(*bom, "nvl72-nvswitch")->count, 8 * 18) << d;
  }
}

// Switch ports bought and used: every cable takes one port at each switch
// end (conservation). 100 NVL72 racks, one 800G NIC per GPU, 1:1 on
// 144-port switches: 100 leaves (72 down, 72 up) and 72 spines, one lane
// from each leaf (the spine count divides the leaves' 72 up-ports): 7,200
// NIC cables and 7,200 leaf-spine cables take 7,200 + 2 x 7,200 ports of
// 172 x 144, and the 72 spines each use 100.
TEST(Bill, SwitchPortsUsedAreTheCablesEndsOnSwitches) {
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-128rack.yaml",
                                         {"cluster.nodes=100"});
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  auto bom = bill_of_materials(*spec);
  ASSERT_TRUE(bom.ok()) << bom.error().to_string();
  const BomLine* switches = nullptr;
  for (const auto& l : bom->lines)
    if (l.kind == config::PartKind::kSwitch) switches = &l;
  ASSERT_NE(switches, nullptr);
  EXPECT_EQ(switches->count, 172);
  EXPECT_EQ(switches->ports, 172 * 144);
  EXPECT_EQ(switches->ports_used, 7200 + 2 * 7200);
  EXPECT_EQ(switches->with_spare_ports, 72);
  EXPECT_EQ(switches->fewest_used, 100);
  EXPECT_NE(report::format_bill(*bom).find("ports 21600 of 24768 used (87%); 72 switches with spare ports, the "
                                           "emptiest using 100 of 144"),
            std::string::npos)
      << report::format_bill(*bom);
}

TEST(Bill, StepEnergyIsThePowerIntegratedOverTheSimulatedStep) {
  // A pipelined step on 4 HGX H100 nodes: each GPU draws P while one of its
  // compute operations runs and its idle power otherwise; the rest of the
  // cluster draws its power throughout. Integrate that over the simulated
  // schedule, GPU by GPU, and compare with the closed form step_energy uses
  // (the mean compute time).
  const auto net = workload::testing::shipped_network("h100-ib400-4node.yaml");
  auto w =
      workload::testing::load(workload::testing::kSmall, {"parallelism.tp=4", "parallelism.pp=2", "batch.global=32"});
  auto g = workload::compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  auto backend = engine::make_backend("analytical");
  auto costs = workload::cost_calls(g->calls, net, **backend, workload::CommChoice{});
  ASSERT_TRUE(costs.ok());
  const auto r = workload::simulate_step(*g, *costs, net);
  const double T = r.step_time_s;
  const double P = 700, idle = 145, other = 12345, share = 0.9;
  BillOfMaterials bom;
  bom.gpus = g->gpus;
  bom.gpu_watts = P * g->gpus;
  bom.gpu_idle_watts = idle * g->gpus;
  bom.it_watts = bom.gpu_watts + other;
  bom.usd = 1e6;
  config::EnergySpec spec;
  spec.gpu_busy_share = share;
  spec.pue = 1.25;
  double gpu_J = 0;
  for (std::size_t wk = 0; wk < g->worker_gpus.size(); ++wk) {
    std::vector<std::pair<double, double>> busy;  // this worker's compute intervals
    for (std::size_t i = 0; i < g->ops.size(); ++i) {
      const auto& op = g->ops[i];
      if (op.kind != workload::StepOp::Kind::kCompute) continue;
      if (std::find(op.workers.begin(), op.workers.end(), static_cast<int>(wk)) == op.workers.end()) continue;
      busy.emplace_back(r.start_s[i], r.finish_s[i]);
    }
    std::sort(busy.begin(), busy.end());
    double on = 0, reach = 0;  // the union of the intervals
    for (auto [a, b] : busy) {
      a = std::max(a, reach);
      if (b > a) on += b - a;
      reach = std::max(reach, b);
    }
    gpu_J += static_cast<double>(g->worker_gpus[wk].size()) * (on * P * share + (T - on) * idle);
  }
  const auto e = step_energy(bom, spec, T, r.compute_s);
  EXPECT_NEAR(e.gpu_J / gpu_J, 1.0, 1e-9);
  EXPECT_NEAR(e.other_J, other * T, 1e-9 * other * T);
  EXPECT_NEAR(e.facility_J, 1.25 * (gpu_J + other * T), 1e-6 * e.facility_J);
  // Capital: $1M over 5 years, for T seconds.
  EXPECT_NEAR(e.capital_usd, 1e6 * T / (5 * 365.25 * 86400), 1e-12);
  EXPECT_NEAR(e.energy_usd, e.facility_J / 3.6e6 * spec.usd_per_kwh, 1e-12);
}

// A job placed on part of the cluster (topology/placement.h): its GPUs draw
// busy power while computing and idle power otherwise; the others idle for
// the whole step. 100 GPUs of 1 kW (100 W idle), 40 placed, busy 6 s of 10.
TEST(Bill, GpusOutsideAPlacementIdleThroughTheStep) {
  topology::BillOfMaterials bom;
  bom.gpu_watts = 100 * 1000.0;
  bom.gpu_idle_watts = 100 * 100.0;
  bom.it_watts = bom.gpu_watts + 5000;  // 5 kW of everything else
  config::EnergySpec spec;
  spec.gpu_busy_share = 1.0;
  spec.pue = 1.0;
  const auto e = topology::step_energy(bom, spec, 10, 6, 0.4);
  EXPECT_NEAR(e.gpu_J, 40 * (1000.0 * 6 + 100.0 * 4) + 60 * 100.0 * 10, 1e-6);
  EXPECT_NEAR(e.other_J, 5000.0 * 10, 1e-6);
  const auto whole = topology::step_energy(bom, spec, 10, 6);
  EXPECT_NEAR(whole.gpu_J, 100 * (1000.0 * 6 + 100.0 * 4), 1e-6);
}

// Energies print in Wh below a kWh and never in exponent form (999.6 Wh
// printed as "1e+03 Wh").
TEST(Bill, EnergyTextKeepsItsUnitReadable) {
  EXPECT_EQ(report::energy_text(0.513 * 3600), "0.513 Wh");
  EXPECT_EQ(report::energy_text(843 * 3600), "843 Wh");
  EXPECT_EQ(report::energy_text(999.6 * 3600), "1.000 kWh");
  EXPECT_EQ(report::energy_text(1010 * 3600), "1.010 kWh");
}

// A topology without host CPUs (a hand-written file) leaves the hosts' power
// and price out: a step's energy says so, in the text and the JSON, as
// `topo`'s bill does; a template cluster, which has them, says nothing.
TEST(Bill, AStepsEnergyWithoutHostsSaysSo) {
  BillOfMaterials bom;
  bom.gpu_watts = 1000;
  bom.it_watts = 1200;
  bom.usd = 1e5;
  config::EnergySpec spec;
  for (bool no_hosts : {true, false}) {
    bom.no_hosts = no_hosts;
    const auto e = step_energy(bom, spec, 1.0, 0.5);
    EXPECT_EQ(e.no_hosts, no_hosts);
    const std::string text = report::format_step_energy(e, spec, 0);
    EXPECT_EQ(text.find("no host CPUs") != std::string::npos, no_hosts) << text;
  }
}

TEST(Bill, BuiltInCatalogReadsAndEveryEntryHasASource) {
  auto c = config::read_builtin_catalog();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  for (const auto& p : c->parts) EXPECT_FALSE(p.source.empty()) << p.name;
  EXPECT_EQ(c->energy.sources.size(), 4u);
  // Every built-in GPU model has its part (B300 and GB300 had none: a
  // cluster of them drew 0 W for its GPUs in run and sweep).
  for (const auto& g : config::builtin_gpu_models()) {
    EXPECT_TRUE(std::any_of(c->parts.begin(), c->parts.end(), [&](const config::PartSpec& p) {
      return p.kind == config::PartKind::kGpu && p.model == g.name;
    })) << g.name;
  }
}

TEST(Bill, OpticsAndCopperAgainstNvidiasDatasheets) {
  // Power per end and reach of the shipped cables against NVIDIA's LinkX
  // datasheets: MMA4Z00-NS400 (400G SR4: 8 W typical, 50 m on OM4),
  // MMS4X00-NS400 (400G DR4: 9 W, 100 m), MMA4Z00-NS-T (800G 2xSR4: 15 W),
  // MMS4X00-NS-T (800G 2xDR4: 17 W, 100 m), MCP4Y10 (800G DAC: 0.1 W, 2 m),
  // MCP7Y00 (400G DAC to 3 m), MMS4X50-NM (2xFR4: 2 km).
  const auto& c = config::builtin_catalog();
  struct Sheet {
    const char* part;
    double watts, reach_m;
  };
  for (const Sheet& s :
       {Sheet{"sr4-400g", 8, 50}, Sheet{"dr4-400g", 9, 100}, Sheet{"sr8-800g", 15, 50}, Sheet{"dr8-800g", 17, 100},
        Sheet{"dac-800g", 0.1, 2}, Sheet{"dac-400g", 0.1, 3}, Sheet{"fr8-800g", 17, 2000}}) {
    const auto* p = c.find(s.part);
    ASSERT_NE(p, nullptr) << s.part;
    EXPECT_DOUBLE_EQ(p->watts, s.watts) << s.part;
    EXPECT_DOUBLE_EQ(p->reach_m, s.reach_m) << s.part;
  }
  // And the systems the host shares were derived from add back up: an HGX
  // H100 node to DGX H100's 10.2 kW and about $270k, an HGX B200 node to
  // DGX B200's 14.3 kW (NVIDIA DGX user guides; SemiAnalysis, 2023-05).
  auto node = [&](const char* gpu, const char* host, const char* nic) {
    return std::pair{8 * c.find(gpu)->watts + 2 * c.find(host)->watts + 8 * c.find(nic)->watts,
                     8 * c.find(gpu)->usd + 2 * c.find(host)->usd + 8 * c.find(nic)->usd};
  };
  EXPECT_DOUBLE_EQ(node("h100-sxm", "hgx-h100-host", "connectx-7").first, 10200);
  EXPECT_DOUBLE_EQ(node("h100-sxm", "hgx-h100-host", "connectx-7").second, 270000);
  EXPECT_DOUBLE_EQ(node("b200-sxm", "hgx-b200-host", "connectx-7").first, 14300);
  EXPECT_DOUBLE_EQ(node("a100-sxm", "dgx-a100-host", "connectx-6").first, 6500);
}

// The energy line keeps its digits for a small step: 0.25 Wh (900 J) is not
// "0.000 kWh", and a fraction of a cent is not "$0.00".
TEST(Bill, SmallStepsKeepTheirDigits) {
  StepEnergy e;
  e.facility_J = 900;  // 0.25 Wh
  e.it_J = 720;        // 0.2 Wh
  e.usd = 0.00035;
  e.energy_usd = 0.000022;
  e.capital_usd = 0.000328;
  const std::string text = report::format_step_energy(e, config::EnergySpec{}, 0);
  EXPECT_NE(text.find("energy       0.25 Wh per step"), std::string::npos) << text;
  EXPECT_NE(text.find("IT 0.2 Wh"), std::string::npos) << text;
  EXPECT_NE(text.find("$0.00035 per step"), std::string::npos) << text;
  EXPECT_NE(text.find("energy $0.000022"), std::string::npos) << text;
  e.facility_J = 3.6e6 * 4.252;
  EXPECT_NE(report::format_step_energy(e, config::EnergySpec{}, 0).find("4.252 kWh per step"), std::string::npos);
}

}  // namespace
}  // namespace collsim::topology

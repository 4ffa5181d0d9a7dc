// Prints the busbw (GB/s) of a ring all-reduce of 8 GiB, Simple protocol,
// on the topology file given as argument; exit 2 on bad input, 1 otherwise.
#include <collsim/collsim.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer TOPOLOGY\n");
    return 2;
  }
  collsim::api::CollectiveRequest request;
  request.topology = argv[1];
  request.algo = "ring";
  request.proto = "Simple";
  request.sizes = {8589934592.0};
  try {
    const auto rows = collsim::api::run_collective(request);
    std::printf("collsim %s: %.2f\n", collsim::api::version().c_str(), rows.at(0).busbw_GBps);
  } catch (const collsim::api::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return e.input() ? 2 : 1;
  }
  return 0;
}

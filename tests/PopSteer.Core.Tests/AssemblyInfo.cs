// Torch's global RNG seeds model initialisation; parallel test classes would interleave draws and make seeded
// models differ from run to run. The tests are small, so serial costs little on two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

/* gradcheck_net.h: the whole-network mode of `tinymlp gradcheck` (gradcheck_net.c). */
#ifndef TINYMLP_CLI_GRADCHECK_NET_H
#define TINYMLP_CLI_GRADCHECK_NET_H

#include <stdint.h>

/* Builds a 4-input net with hidden layers `layers` and k_out outputs (<= 0: 1 for sigmoid_bce,
 * else 3), checks every tensor and prints the table (or JSON). Returns the exit status: 0 all
 * pass, 1 some tensor is off, 2 a bad spec. */
int gradcheck_net_run(const char *layers, int loss, long k_out, uint64_t seed, int json);

#endif

/* reduce.c: how a global batch is cut between ranks (reduce.h). */
#include "tinymlp/reduce.h"

void tmlp_reduce_shard(int rows, int rank, int size, int *offset, int *count)
{
    if (size < 1 || rank < 0 || rank >= size || rows < 0) {
        *offset = *count = 0;
        return;
    }
    int base = rows / size, extra = rows % size;
    *offset = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra);
}

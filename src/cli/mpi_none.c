/* mpi_none.c: the MPI front end of a tinymlp built without Open MPI (see study.h).
 *
 * One process, so nothing to start; but a tinymlp started N times by mpirun would run N
 * independent studies into the same folder, so under a multi-rank mpirun it refuses and
 * names the binary that has MPI. */
#include <stdio.h>
#include <stdlib.h>

#include "study.h"

static int launched_ranks(void)
{
    const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return atoi(v);
    }
    return 1;
}

int study_mpi_begin(int *argc, char ***argv, int *rank)
{
    (void)argc, (void)argv;
    *rank = 0;
    int n = launched_ranks();
    if (n > 1) {
        fprintf(stderr, "tinymlp: started as one of %d MPI ranks, but this tinymlp was built "
                "without Open MPI: run build/tinymlp-mpi (built by make when mpicc is "
                "installed: scripts/deps.sh mpi)\n", n);
        return -1;
    }
    return 1;
}

int study_mpi_run_all(const compare_setup *su, const char *dir, int quiet, int ok)
{
    (void)su, (void)dir, (void)quiet, (void)ok;
    return -1;
}

int study_mpi_active(void)
{
    return 0;
}

void study_mpi_end(void)
{
}

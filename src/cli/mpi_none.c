/* mpi_none.c: the MPI front end of a tinymlp built without Open MPI (see study.h).
 *
 * One process, so nothing to start; but a tinymlp started N times by mpirun would run N
 * independent studies into the same folder, so under a multi-rank mpirun it hands over to
 * the tinymlp-mpi beside it, or refuses and names the binary that has MPI. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "study.h"

/* The ranks mpirun (or srun) says this process is one of; 1 with TINYMLP_NO_MPI set, for a
 * script that runs tinymlp as a plain program inside an MPI job's environment. */
static int launched_ranks(void)
{
    if (getenv("TINYMLP_NO_MPI"))
        return 1;
    const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return atoi(v);
    }
    return 1;
}

void study_mpi_handoff(char **argv)
{
    /* The variable guards against a loop: a "tinymlp-mpi" that is itself this binary. */
    if (launched_ranks() < 2 || getenv("TINYMLP_MPI_HANDOFF"))
        return;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - sizeof "tinymlp-mpi")
        return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return;
    strcpy(slash + 1, "tinymlp-mpi");
    if (access(self, X_OK) != 0 || setenv("TINYMLP_MPI_HANDOFF", "1", 1) != 0)
        return;
    execv(self, argv);
    fprintf(stderr, "tinymlp: could not start %s under mpirun; running without MPI\n", self);
    unsetenv("TINYMLP_MPI_HANDOFF");
}

int study_mpi_begin(int *argc, char ***argv, int *rank)
{
    (void)argc, (void)argv;
    *rank = 0;
    int n = launched_ranks();
    if (n > 1) {
        fprintf(stderr, "tinymlp: started as one of %d MPI ranks, but this tinymlp was built "
                "without Open MPI and no tinymlp-mpi stands beside it: build it (make builds "
                "build/tinymlp-mpi when mpicc is installed: scripts/deps.sh mpi)\n", n);
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

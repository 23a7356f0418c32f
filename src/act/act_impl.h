/* act_impl.h: private glue between the activation family files and the registry.
 *
 * Each family file defines one table of tmlp_act rows ending in a row whose name is NULL;
 * registry.c lists the tables once. Adding an activation changes its family file alone. */
#ifndef TINYMLP_ACT_IMPL_H
#define TINYMLP_ACT_IMPL_H

#include "tinymlp/act.h"
#include "tinymlp/init.h"

extern const tmlp_act tmlp_acts_basic[];   /* identity */
extern const tmlp_act tmlp_acts_sigmoid[]; /* sigmoid, tanh */
extern const tmlp_act tmlp_acts_relu[];    /* relu, leaky_relu */
extern const tmlp_act tmlp_acts_softmax[]; /* softmax */

#endif

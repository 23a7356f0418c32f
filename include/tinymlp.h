/* tinymlp.h: everything in tinymlp, one include.
 *
 * tinymlp is free software under the MIT license: see the file LICENSE.
 * Copyright (c) 2026 the tinymlp authors. */
#ifndef TINYMLP_H
#define TINYMLP_H

#define TINYMLP_VERSION "0.1.0"

#include "tinymlp/err.h"
#include "tinymlp/team.h"
#include "tinymlp/tensor.h"
#include "tinymlp/rng.h"
#include "tinymlp/reduce.h"
#include "tinymlp/act.h"
#include "tinymlp/init.h"
#include "tinymlp/loss.h"
#include "tinymlp/optim.h"
#include "tinymlp/schedule.h"
#include "tinymlp/net.h"
#include "tinymlp/model_io.h"
#include "tinymlp/idx.h"
#include "tinymlp/csv.h"
#include "tinymlp/data.h"
#include "tinymlp/train.h"
#include "tinymlp/checkpoint.h"
#include "tinymlp/diag.h"
#include "tinymlp/gradcheck.h"

#endif

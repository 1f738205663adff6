/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rest-status.h: when each zone of one person was last treated and when it
 * may be treated again, from their earlier treatments.
 *
 * Pure, like the engine: the caller brings the treatments and the time.
 * Person1.GetRestStatus, `dermarollctl zones`, the session summary and the
 * "zone ready" timer all read the same answer from here, so the rule the
 * engine warns by and the date the user is told cannot disagree.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "engine-config.h"
#include "engine.h"

G_BEGIN_DECLS

typedef struct
{
  int64_t last_treated_ms; /* latest treatment of the zone; 0: never */
  int64_t free_from_ms;    /* end of the latest rest window; 0: free at @now_ms */
} DrRestStatus;

/* The rest window of a treatment with needles of @needle_length_um (0: not
 * known, counted as the longest class, erring towards rest), in ms. */
int64_t dr_rest_window_ms (const DrEngineConfig *config, uint16_t needle_length_um);

/* Fills @status[z] for every configured zone z (ids 0 .. n_zones-1) from
 * @treatments. Each treatment's window is set by its own needle, so a zone
 * rests as long as its deepest recent needling asks, whatever came after.
 * A window that ends at or before @now_ms is over (free_from_ms 0).
 * Treatments of zones not configured are ignored. */
void dr_rest_status_compute (const DrEngineConfig *config, const DrTreatment *treatments,
                             size_t n_treatments, int64_t now_ms,
                             DrRestStatus status[DR_MAX_ZONES]);

/* The earliest free_from_ms after @now_ms over @status, INT64_MAX when no
 * zone is waiting: the one time a "zone ready" timer has to wake. */
int64_t dr_rest_status_next_due_ms (const DrEngineConfig *config,
                                    const DrRestStatus status[DR_MAX_ZONES], int64_t now_ms);

G_END_DECLS

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rest-status.c: last treatment and end of rest per zone, from a person's
 * treatments. */
#include "rest-status.h"

#include <math.h>
#include <string.h>

#define MS_PER_DAY (24 * 60 * 60 * 1000.0)

int64_t
dr_rest_window_ms (const DrEngineConfig *config, uint16_t needle_length_um)
{
  DrNeedleClass k;

  g_return_val_if_fail (config != NULL, 0);

  /* As the engine does: a needle we were not told of is the longest. */
  k = dr_needle_class_for_length (needle_length_um == 0 ? UINT16_MAX : needle_length_um);
  return (int64_t) llround (config->rest_days[k] * MS_PER_DAY);
}

void
dr_rest_status_compute (const DrEngineConfig *config, const DrTreatment *treatments,
                        size_t n_treatments, int64_t now_ms, DrRestStatus status[DR_MAX_ZONES])
{
  g_return_if_fail (config != NULL);
  g_return_if_fail (treatments != NULL || n_treatments == 0);
  g_return_if_fail (status != NULL);

  memset (status, 0, sizeof (DrRestStatus) * DR_MAX_ZONES);
  for (size_t i = 0; i < n_treatments; i++)
    {
      const DrTreatment *t = &treatments[i];
      int64_t window, end;

      if (t->zone < 0 || t->zone >= (int) config->n_zones || config->zones[t->zone].name[0] == '\0'
          || t->treated_at_ms == INT64_MIN || t->treated_at_ms <= 0)
        continue;
      window = dr_rest_window_ms (config, t->needle_length_um);
      end = t->treated_at_ms > INT64_MAX - window ? INT64_MAX : t->treated_at_ms + window;
      status[t->zone].last_treated_ms = MAX (status[t->zone].last_treated_ms, t->treated_at_ms);
      /* The engine warns while rest < window, so the zone is free from the
       * window's end itself. */
      if (end > now_ms)
        status[t->zone].free_from_ms = MAX (status[t->zone].free_from_ms, end);
    }
}

int64_t
dr_rest_status_next_due_ms (const DrEngineConfig *config, const DrRestStatus status[DR_MAX_ZONES],
                            int64_t now_ms)
{
  int64_t due = INT64_MAX;

  g_return_val_if_fail (config != NULL, INT64_MAX);
  g_return_val_if_fail (status != NULL, INT64_MAX);

  for (unsigned z = 0; z < config->n_zones && z < DR_MAX_ZONES; z++)
    if (config->zones[z].name[0] != '\0' && status[z].free_from_ms > now_ms)
      due = MIN (due, status[z].free_from_ms);
  return due;
}

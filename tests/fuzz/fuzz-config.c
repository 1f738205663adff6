/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-config.c: libFuzzer target for the config file parser
 * (dr_engine_config_load_bytes: every group but [notifications], from a
 * buffer, as dermarolld and --check-config read a file).
 *
 * Any input is accepted or refused with a message, never crashes, never
 * leaks, never logs a critical; an accepted file leaves a config the engine
 * can use (every number finite), and a refused one leaves the config as it
 * was. Seeds: tests/fuzz/config/. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine-config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static GLogWriterOutput
quiet_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  /* Criticals and warnings are bugs here; messages are the parser's own. */
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_writer_func (quiet_writer, NULL, NULL);
  return 0;
}

static void
check_finite (const DrEngineConfig *c)
{
  if (c->n_zones > DR_MAX_ZONES)
    abort ();
  for (unsigned z = 0; z < DR_MAX_ZONES; z++)
    if (!isfinite (c->zones[z].area_cm2) || !isfinite (c->zones[z].target_passes)
        || memchr (c->zones[z].name, '\0', sizeof c->zones[z].name) == NULL)
      abort ();
  for (unsigned k = 0; k < G_N_ELEMENTS (c->force_limit_n); k++)
    if (!isfinite (c->force_limit_n[k]) || !isfinite (c->rest_days[k]))
      abort ();
  if (!isfinite (c->over_treatment_factor) || !isfinite (c->contact_force_n)
      || !isfinite (c->head_life_revolutions))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  DrEngineConfig config, before;
  gboolean ok;

  dr_engine_config_init_defaults (&config);
  memcpy (&before, &config, sizeof config);
  ok = dr_engine_config_load_bytes (&config, (const char *) data, size, "fuzz.conf", warnings,
                                    &error);
  if (ok != (error == NULL))
    abort ();
  if (!ok && (error->message == NULL || memcmp (&config, &before, sizeof config) != 0))
    abort ();
  check_finite (&config);
  return 0;
}

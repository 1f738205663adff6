/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine-config.h: the treatment rules the engine applies (zones, force
 * limits, rest intervals, session gap, head life), their defaults, and
 * loading overrides from a GKeyFile config file.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "zones.h"

G_BEGIN_DECLS

#define DR_MAX_ZONES 32
#define DR_ZONE_NAME_MAX 32
#define DR_N_DEFAULT_ZONES DR_N_FACE_ZONES
/* Zone id used in events and totals for contact no zone could be found for. */
#define DR_ZONE_UNASSIGNED (-1)

/* Needle length classes: ≤0.3 mm, ≤0.5 mm, ≤1.0 mm, longer. */
typedef enum
{
  DR_NEEDLE_CLASS_COSMETIC = 0, /* ≤ 300 µm */
  DR_NEEDLE_CLASS_SHORT,        /* ≤ 500 µm */
  DR_NEEDLE_CLASS_MEDIUM,       /* ≤ 1000 µm */
  DR_NEEDLE_CLASS_LONG,         /* > 1000 µm */
  DR_N_NEEDLE_CLASSES
} DrNeedleClass;

DrNeedleClass dr_needle_class_for_length (uint16_t needle_length_um);

typedef struct
{
  char name[DR_ZONE_NAME_MAX]; /* "" = no zone with this id */
  double area_cm2;
  double target_passes;
  double force_limit_n; /* 0 = the needle-length default */
  bool excluded;
} DrZoneSpec;

typedef struct
{
  DrZoneSpec zones[DR_MAX_ZONES]; /* indexed by zone id */
  unsigned n_zones;               /* ids 0 .. n_zones-1 are in use */
  double contact_force_n;
  double force_limit_n[DR_N_NEEDLE_CLASSES];
  double rest_days[DR_N_NEEDLE_CLASSES];
  int64_t session_gap_ms;
  double head_life_revolutions;
  double over_treatment_factor; /* over-treated at factor × target passes */
} DrEngineConfig;

/* Zones 0..6 (forehead 60 cm², left-cheek 40, right-cheek 40, nose 12,
 * upper-lip 8, chin 18, neck 110; 6 passes each), contact 0.5 N, limits
 * 6/5/4/3 N, rest 1/7/28/42 days, gap 120 s, head life 2500 revolutions. */
void dr_engine_config_init_defaults (DrEngineConfig *config);

/* Applies the overrides in @path on top of @config. On any error @config is
 * left untouched and @error lists every problem in the file, one a line,
 * each as "FILE:LINE: [group] key: what is wrong, what is valid". Warnings
 * (an unknown group, with the nearest known name) go into @warnings as
 * strings, or to g_message () when @warnings is NULL. */
gboolean dr_engine_config_load_file_full (DrEngineConfig *config, const char *path,
                                          GPtrArray *warnings, GError **error);
gboolean dr_engine_config_load_file (DrEngineConfig *config, const char *path, GError **error);
/* @data is @len bytes; a NUL byte in them is an error. */
gboolean dr_engine_config_load_bytes (DrEngineConfig *config, const char *data, gsize len,
                                      const char *origin, GPtrArray *warnings, GError **error);
gboolean dr_engine_config_load_data (DrEngineConfig *config, const char *data, const char *origin,
                                     GError **error);

/* Zone id for @name, or -1 when there is no such zone. */
int dr_engine_config_zone_by_name (const DrEngineConfig *config, const char *name);
const char *dr_engine_config_zone_name (const DrEngineConfig *config, int zone);
/* "forehead, left-cheek, ..." for messages that list the valid zones. */
char *dr_engine_config_list_zone_names (const DrEngineConfig *config);
/* Force limit for @zone with a head of @needle_length_um. */
double dr_engine_config_force_limit (const DrEngineConfig *config, int zone,
                                     uint16_t needle_length_um);

G_END_DECLS

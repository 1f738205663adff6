/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zones.h: the face zones the roller's motion sensor reports, by id
 * (PROTOCOL.md): their names on the bus and in configuration files, how a
 * person says them, and their default areas. The daemon's engine config
 * and the client's face map both take them from here, so a zone cannot be
 * spelt two ways.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DR_N_FACE_ZONES 7

typedef struct
{
  const char *name;  /* "left-cheek": the bus, config groups, the CLI */
  const char *label; /* "left cheek": as a person says it; untranslated (the app: _ (label)) */
  double area_cm2;   /* the engine's default, a config file may override it */
} DrFaceZone;

/* Indexed by the sensor's zone id. */
extern const DrFaceZone dr_face_zones[DR_N_FACE_ZONES];

/* The zone names in id order, NULL-terminated. */
const char *const *dr_face_zone_names (void);

/* The id of @name, or -1. */
int dr_face_zone_lookup (const char *name);

G_END_DECLS

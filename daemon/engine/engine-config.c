/* engine-config.c: the treatment rules' defaults and the GKeyFile format
 * that overrides them.
 *
 * Every group and every key is optional:
 *
 *   [engine]
 *   contact-force-n=0.5          contact from this force on, N (> 0)
 *   session-gap-s=120            a pause this long ends a session, s (> 0, ≤ 86400)
 *   head-life-revolutions=2500   (> 0)
 *   over-treatment-factor=2.0    over-treated at factor × target passes (≥ 1)
 *
 *   [force-limits]               N (> 0), by needle length
 *   cosmetic-n=6.0               ≤ 0.3 mm
 *   short-n=5.0                  ≤ 0.5 mm
 *   medium-n=4.0                 ≤ 1.0 mm
 *   long-n=3.0                   longer
 *
 *   [rest-days]                  days (0 .. 3650), same classes
 *   cosmetic=1
 *   short=7
 *   medium=28
 *   long=42
 *
 *   [zone forehead]              overrides the zone of that name, or adds one
 *   id=0                         0 .. 31; new zones only (default: lowest free id)
 *   area-cm2=60                  > 0; required for a new zone
 *   target-passes=6              > 0
 *   force-limit-n=0              ≥ 0; 0 = the needle-length default
 *   excluded=false
 *
 * Zone names are 1-31 characters of a-z, 0-9 and '-'. Other groups are
 * ignored: the daemon keeps its own settings in the same file.
 */
#include "engine-config.h"

#include <errno.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define ZONE_GROUP_PREFIX "zone "
#define MAX_SESSION_GAP_S 86400.0
#define MAX_REST_DAYS 3650.0

#define DEFAULT_TARGET_PASSES 6.0

DrNeedleClass
dr_needle_class_for_length (uint16_t needle_length_um)
{
  if (needle_length_um <= 300)
    return DR_NEEDLE_CLASS_COSMETIC;
  if (needle_length_um <= 500)
    return DR_NEEDLE_CLASS_SHORT;
  if (needle_length_um <= 1000)
    return DR_NEEDLE_CLASS_MEDIUM;
  return DR_NEEDLE_CLASS_LONG;
}

void
dr_engine_config_init_defaults (DrEngineConfig *config)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof (*config));
  for (unsigned i = 0; i < DR_N_DEFAULT_ZONES; i++)
    {
      DrZoneSpec *z = &config->zones[i];

      g_strlcpy (z->name, dr_face_zones[i].name, sizeof (z->name));
      z->area_cm2 = dr_face_zones[i].area_cm2;
      z->target_passes = DEFAULT_TARGET_PASSES;
    }
  config->n_zones = DR_N_DEFAULT_ZONES;
  config->contact_force_n = 0.5;
  config->force_limit_n[DR_NEEDLE_CLASS_COSMETIC] = 6.0;
  config->force_limit_n[DR_NEEDLE_CLASS_SHORT] = 5.0;
  config->force_limit_n[DR_NEEDLE_CLASS_MEDIUM] = 4.0;
  config->force_limit_n[DR_NEEDLE_CLASS_LONG] = 3.0;
  config->rest_days[DR_NEEDLE_CLASS_COSMETIC] = 1.0;
  config->rest_days[DR_NEEDLE_CLASS_SHORT] = 7.0;
  config->rest_days[DR_NEEDLE_CLASS_MEDIUM] = 28.0;
  config->rest_days[DR_NEEDLE_CLASS_LONG] = 42.0;
  config->session_gap_ms = 120000;
  config->head_life_revolutions = 2500.0;
  config->over_treatment_factor = 2.0;
}

int
dr_engine_config_zone_by_name (const DrEngineConfig *config, const char *name)
{
  g_return_val_if_fail (config != NULL, -1);
  g_return_val_if_fail (name != NULL, -1);

  if (*name == '\0')
    return -1;
  for (unsigned i = 0; i < config->n_zones && i < DR_MAX_ZONES; i++)
    if (strcmp (config->zones[i].name, name) == 0)
      return (int) i;
  return -1;
}

const char *
dr_engine_config_zone_name (const DrEngineConfig *config, int zone)
{
  g_return_val_if_fail (config != NULL, NULL);

  if (zone < 0 || (unsigned) zone >= config->n_zones || zone >= DR_MAX_ZONES ||
      config->zones[zone].name[0] == '\0')
    return NULL;
  return config->zones[zone].name;
}

char *
dr_engine_config_list_zone_names (const DrEngineConfig *config)
{
  GString *names = g_string_new (NULL);

  g_return_val_if_fail (config != NULL, NULL);

  for (unsigned z = 0; z < config->n_zones && z < DR_MAX_ZONES; z++)
    {
      if (config->zones[z].name[0] == '\0')
        continue;
      if (names->len)
        g_string_append (names, ", ");
      g_string_append (names, config->zones[z].name);
    }
  return g_string_free (names, FALSE);
}

double
dr_engine_config_force_limit (const DrEngineConfig *config, int zone, uint16_t needle_length_um)
{
  g_return_val_if_fail (config != NULL, 0.0);

  if (dr_engine_config_zone_name (config, zone) != NULL && config->zones[zone].force_limit_n > 0)
    return config->zones[zone].force_limit_n;
  return config->force_limit_n[dr_needle_class_for_length (needle_length_um)];
}

/* Loading. Everything is applied to a copy that replaces the caller's
 * config only when the whole file is good. */

typedef struct
{
  GKeyFile *kf;
  const char *origin;
} Loader;

typedef struct
{
  const char *group;
  DrZoneSpec spec;
} UnplacedZone;

G_GNUC_PRINTF (5, 6)
static gboolean
set_error (GError **error, const Loader *l, const char *group, const char *key, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);

  if (key != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: [%s] %s: %s", l->origin, group,
                 key, msg);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: [%s]: %s", l->origin, group, msg);
  return FALSE;
}

static gboolean
has_key (const Loader *l, const char *group, const char *key)
{
  return g_key_file_has_key (l->kf, group, key, NULL);
}

/* The value as written (stripped), so an error can quote it back. */
static char *
get_raw (const Loader *l, const char *group, const char *key)
{
  char *raw = g_key_file_get_value (l->kf, group, key, NULL);

  return raw != NULL ? g_strstrip (raw) : g_strdup ("");
}

static gboolean
check_keys (const Loader *l, const char *group, const char *const *known, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (l->kf, group, NULL, NULL);

  for (unsigned i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      if (!g_strv_contains (known, keys[i]))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) known);

          return set_error (error, l, group, keys[i], "unknown key (known: %s)", list);
        }
    }
  return TRUE;
}

typedef enum
{
  MIN_EXCLUSIVE, /* value > min */
  MIN_INCLUSIVE, /* value ≥ min */
} MinKind;

/* @rule completes "must be …" in the error message. */
static gboolean
get_number (const Loader *l,
            const char *group,
            const char *key,
            double min,
            MinKind min_kind,
            double max,
            const char *rule,
            double *out,
            GError **error)
{
  g_autofree char *raw = get_raw (l, group, key);
  char *end = NULL;
  double v;

  errno = 0;
  v = g_ascii_strtod (raw, &end);
  if (*raw == '\0' || end == raw || *end != '\0' || errno == ERANGE || !isfinite (v) ||
      (min_kind == MIN_EXCLUSIVE ? v <= min : v < min) || v > max)
    return set_error (error, l, group, key, "must be %s, got \"%s\"", rule, raw);
  *out = v;
  return TRUE;
}

static gboolean
get_boolean (const Loader *l, const char *group, const char *key, bool *out, GError **error)
{
  g_autofree char *raw = get_raw (l, group, key);

  /* The spellings GKeyFile itself accepts for booleans. */
  if (strcmp (raw, "true") == 0 || strcmp (raw, "1") == 0)
    *out = true;
  else if (strcmp (raw, "false") == 0 || strcmp (raw, "0") == 0)
    *out = false;
  else
    return set_error (error, l, group, key, "must be true or false, got \"%s\"", raw);
  return TRUE;
}

static gboolean
load_engine_group (const Loader *l, DrEngineConfig *c, GError **error)
{
  static const char *const keys[] = { "contact-force-n", "session-gap-s", "head-life-revolutions",
                                      "over-treatment-factor", NULL };
  const char *group = "engine";
  double v;

  if (!check_keys (l, group, keys, error))
    return FALSE;

  if (has_key (l, group, "contact-force-n"))
    {
      if (!get_number (l, group, "contact-force-n", 0, MIN_EXCLUSIVE, G_MAXDOUBLE, "a number > 0",
                       &v, error))
        return FALSE;
      c->contact_force_n = v;
    }
  if (has_key (l, group, "session-gap-s"))
    {
      if (!get_number (l, group, "session-gap-s", 0, MIN_EXCLUSIVE, MAX_SESSION_GAP_S,
                       "a number > 0 and <= 86400", &v, error))
        return FALSE;
      c->session_gap_ms = MAX (1, llround (v * 1000.0));
    }
  if (has_key (l, group, "head-life-revolutions"))
    {
      if (!get_number (l, group, "head-life-revolutions", 0, MIN_EXCLUSIVE, G_MAXDOUBLE,
                       "a number > 0", &v, error))
        return FALSE;
      c->head_life_revolutions = v;
    }
  if (has_key (l, group, "over-treatment-factor"))
    {
      if (!get_number (l, group, "over-treatment-factor", 1, MIN_INCLUSIVE, G_MAXDOUBLE,
                       "a number >= 1", &v, error))
        return FALSE;
      c->over_treatment_factor = v;
    }
  return TRUE;
}

static gboolean
load_force_limits_group (const Loader *l, DrEngineConfig *c, GError **error)
{
  static const char *const keys[] = { "cosmetic-n", "short-n", "medium-n", "long-n", NULL };
  const char *group = "force-limits";

  if (!check_keys (l, group, keys, error))
    return FALSE;
  for (unsigned i = 0; i < DR_N_NEEDLE_CLASSES; i++)
    {
      if (has_key (l, group, keys[i]) &&
          !get_number (l, group, keys[i], 0, MIN_EXCLUSIVE, G_MAXDOUBLE, "a number > 0",
                       &c->force_limit_n[i], error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_rest_days_group (const Loader *l, DrEngineConfig *c, GError **error)
{
  static const char *const keys[] = { "cosmetic", "short", "medium", "long", NULL };
  const char *group = "rest-days";

  G_STATIC_ASSERT (G_N_ELEMENTS (keys) == DR_N_NEEDLE_CLASSES + 1);
  if (!check_keys (l, group, keys, error))
    return FALSE;
  for (unsigned i = 0; i < DR_N_NEEDLE_CLASSES; i++)
    {
      if (has_key (l, group, keys[i]) &&
          !get_number (l, group, keys[i], 0, MIN_INCLUSIVE, MAX_REST_DAYS,
                       "a number from 0 to 3650", &c->rest_days[i], error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
valid_zone_name (const char *name)
{
  size_t len = strlen (name);

  if (len == 0 || len >= DR_ZONE_NAME_MAX)
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
zone_id_free (const DrEngineConfig *c, unsigned id)
{
  return id >= c->n_zones || c->zones[id].name[0] == '\0';
}

static void
place_zone (DrEngineConfig *c, unsigned id, const DrZoneSpec *spec)
{
  /* Ids skipped over become "no zone". */
  for (unsigned i = c->n_zones; i < id; i++)
    memset (&c->zones[i], 0, sizeof (c->zones[i]));
  c->zones[id] = *spec;
  if (id >= c->n_zones)
    c->n_zones = id + 1;
}

static gboolean
load_zone_group (const Loader *l,
                 DrEngineConfig *c,
                 const char *group,
                 GArray *unplaced,
                 GError **error)
{
  static const char *const keys[] = { "id", "area-cm2", "target-passes", "force-limit-n", "excluded",
                                      NULL };
  const char *name = group + MIN (strlen (group), strlen (ZONE_GROUP_PREFIX));
  DrZoneSpec spec;
  int existing;
  int id;

  if (!valid_zone_name (name))
    return set_error (error, l, group, NULL,
                      "a zone name must be 1-%d characters of a-z, 0-9 and -, got \"%s\"",
                      DR_ZONE_NAME_MAX - 1, name);
  if (!check_keys (l, group, keys, error))
    return FALSE;

  existing = dr_engine_config_zone_by_name (c, name);
  if (existing >= 0)
    {
      spec = c->zones[existing];
    }
  else
    {
      memset (&spec, 0, sizeof (spec));
      g_strlcpy (spec.name, name, sizeof (spec.name));
      spec.target_passes = DEFAULT_TARGET_PASSES;
    }
  id = existing;

  if (has_key (l, group, "id"))
    {
      g_autofree char *raw = get_raw (l, group, "id");
      gint64 v;

      if (!g_ascii_string_to_signed (raw, 10, 0, DR_MAX_ZONES - 1, &v, NULL))
        return set_error (error, l, group, "id", "must be an integer from 0 to %d, got \"%s\"",
                          DR_MAX_ZONES - 1, raw);
      /* The roller's motion sensor reports ids, so moving a zone would
       * silently send its samples elsewhere. */
      if (existing >= 0 && v != existing)
        return set_error (error, l, group, "id", "zone %s is id %d and can't be moved, got \"%s\"",
                          name, existing, raw);
      if (existing < 0 && !zone_id_free (c, (unsigned) v))
        return set_error (error, l, group, "id", "duplicate id: %d is already zone %s, got \"%s\"",
                          (int) v, c->zones[v].name, raw);
      id = (int) v;
    }

  if (has_key (l, group, "area-cm2"))
    {
      if (!get_number (l, group, "area-cm2", 0, MIN_EXCLUSIVE, G_MAXDOUBLE, "a number > 0",
                       &spec.area_cm2, error))
        return FALSE;
    }
  else if (existing < 0)
    {
      return set_error (error, l, group, "area-cm2", "required for a new zone");
    }
  if (has_key (l, group, "target-passes") &&
      !get_number (l, group, "target-passes", 0, MIN_EXCLUSIVE, G_MAXDOUBLE, "a number > 0",
                   &spec.target_passes, error))
    return FALSE;
  if (has_key (l, group, "force-limit-n") &&
      !get_number (l, group, "force-limit-n", 0, MIN_INCLUSIVE, G_MAXDOUBLE,
                   "a number >= 0 (0 = the needle-length default)", &spec.force_limit_n, error))
    return FALSE;
  if (has_key (l, group, "excluded") && !get_boolean (l, group, "excluded", &spec.excluded, error))
    return FALSE;

  if (id >= 0)
    {
      place_zone (c, (unsigned) id, &spec);
    }
  else
    {
      UnplacedZone u = { group, spec };

      g_array_append_val (unplaced, u);
    }
  return TRUE;
}

gboolean
dr_engine_config_load_data (DrEngineConfig *config,
                            const char *data,
                            const char *origin,
                            GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GArray) unplaced = g_array_new (FALSE, FALSE, sizeof (UnplacedZone));
  g_auto (GStrv) groups = NULL;
  DrEngineConfig work;
  Loader l = { kf, origin != NULL ? origin : "(config)" };

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_key_file_load_from_data (kf, data, (gsize) -1, G_KEY_FILE_NONE, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", l.origin);
      return FALSE;
    }

  work = *config;
  groups = g_key_file_get_groups (kf, NULL);
  for (unsigned i = 0; groups[i] != NULL; i++)
    {
      const char *group = groups[i];
      gboolean ok = TRUE;

      if (strcmp (group, "engine") == 0)
        ok = load_engine_group (&l, &work, error);
      else if (strcmp (group, "force-limits") == 0)
        ok = load_force_limits_group (&l, &work, error);
      else if (strcmp (group, "rest-days") == 0)
        ok = load_rest_days_group (&l, &work, error);
      else if (g_str_has_prefix (group, ZONE_GROUP_PREFIX) || strcmp (group, "zone") == 0)
        ok = load_zone_group (&l, &work, group, unplaced, error);
      if (!ok)
        return FALSE;
    }

  /* New zones without an id go after every explicit id is placed, so an
   * explicit id later in the file never collides with a generated one. */
  for (unsigned i = 0; i < unplaced->len; i++)
    {
      const UnplacedZone *u = &g_array_index (unplaced, UnplacedZone, i);
      unsigned id = 0;

      while (id < DR_MAX_ZONES && !zone_id_free (&work, id))
        id++;
      if (id == DR_MAX_ZONES)
        return set_error (error, &l, u->group, "id", "no free zone id (at most %d zones)",
                          DR_MAX_ZONES);
      place_zone (&work, id, &u->spec);
    }

  *config = work;
  return TRUE;
}

gboolean
dr_engine_config_load_file (DrEngineConfig *config, const char *path, GError **error)
{
  g_autofree char *data = NULL;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* GLib's message already names the file. */
  if (!g_file_get_contents (path, &data, NULL, error))
    return FALSE;
  return dr_engine_config_load_data (config, data, path, error);
}

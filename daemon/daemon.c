/* daemon.c: builds dermarolld from its parts and routes between them.
 *
 * Startup reads what the store knows synchronously, before the main loop
 * runs; from then on everything is asynchronous: the store on its worker
 * thread, BlueZ and the bus through async GDBus calls.
 */
#include "daemon.h"

#include "dr-error.h"
#include "roller.h"
#include "service.h"
#include "store.h"

struct _DrDaemon
{
  DrDaemonOptions options;
  DrEngineConfig config;
  DrStoreWorker *store;
  DrBluez *bluez;
  DrService *service;
  DrNotifier *notifier;
  DrNotifierOptions notifier_options;
  GDBusConnection *system_bus;
  GDBusConnection *publish_bus;
  GMainLoop *loop;

  GHashTable *rollers;     /* address → DrRoller */
  GHashTable *head_revs;   /* head id → double*, as stored at startup */
  GPtrArray *known_rollers; /* from the store, until the rollers are made */
  gboolean write_failed;    /* since the last commit report */
  guint64 last_session_id;
  int64_t last_treated[DR_MAX_ZONES];
};

DrStoreWorker *
dr_daemon_get_store (DrDaemon *self)
{
  return self->store;
}

DrBluez *
dr_daemon_get_bluez (DrDaemon *self)
{
  return self->bluez;
}

DrNotifier *
dr_daemon_get_notifier (DrDaemon *self)
{
  return self->notifier;
}

DrEngineConfig *
dr_daemon_get_config (DrDaemon *self)
{
  return &self->config;
}

GDBusObjectManagerServer *
dr_daemon_get_object_manager (DrDaemon *self)
{
  return dr_service_get_object_manager (self->service);
}

guint64
dr_daemon_next_session_id (DrDaemon *self)
{
  return ++self->last_session_id;
}

int64_t
dr_daemon_zone_last_treated (DrDaemon *self, int zone)
{
  if (zone < 0 || zone >= DR_MAX_ZONES)
    return INT64_MIN;
  return self->last_treated[zone];
}

void
dr_daemon_set_zone_last_treated (DrDaemon *self, int zone, int64_t time_ms)
{
  GHashTableIter iter;
  gpointer roller;

  if (zone < 0 || zone >= DR_MAX_ZONES)
    return;
  self->last_treated[zone] = time_ms;
  /* Zones are the person's skin, not the roller's: every roller learns it. */
  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    dr_roller_set_zone_last_treated (roller, zone, time_ms);
}

double
dr_daemon_head_revolutions (DrDaemon *self, guint32 head_id)
{
  double *revs = g_hash_table_lookup (self->head_revs, GUINT_TO_POINTER (head_id));
  return revs ? *revs : 0.0;
}

DrRoller *
dr_daemon_lookup_roller (DrDaemon *self, const char *address)
{
  return g_hash_table_lookup (self->rollers, address);
}

DrRoller *
dr_daemon_lookup_roller_by_path (DrDaemon *self, const char *object_path)
{
  GHashTableIter iter;
  gpointer roller;

  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    if (g_strcmp0 (dr_roller_get_object_path (roller), object_path) == 0)
      return roller;
  return NULL;
}

static DrRoller *
add_roller (DrDaemon *self, const char *address, const char *name, const DrRollerStored *stored)
{
  DrRoller *roller = dr_roller_new (self, address, name, stored);
  g_hash_table_insert (self->rollers, g_strdup (address), roller);
  return roller;
}

DrRoller *
dr_daemon_ensure_roller (DrDaemon *self, const char *address, const char *name)
{
  DrRoller *roller = dr_daemon_lookup_roller (self, address);
  return roller ? roller : add_roller (self, address, name, NULL);
}

char *
dr_daemon_zone_names (DrDaemon *self)
{
  GString *names = g_string_new (NULL);

  for (unsigned z = 0; z < self->config.n_zones; z++)
    {
      if (self->config.zones[z].name[0] == '\0')
        continue;
      if (names->len)
        g_string_append (names, ", ");
      g_string_append (names, self->config.zones[z].name);
    }
  return g_string_free (names, FALSE);
}

typedef struct
{
  char *zone;
  gboolean excluded;
} ExcludeJob;

static void
exclude_job_free (gpointer data)
{
  ExcludeJob *job = data;
  g_free (job->zone);
  g_free (job);
}

static gboolean
job_set_excluded (DrStore *store, gpointer data, GError **error)
{
  ExcludeJob *job = data;
  return dr_store_set_zone_excluded (store, job->zone, job->excluded, error);
}

gboolean
dr_daemon_set_zone_excluded (DrDaemon *self, const char *zone, gboolean excluded, GError **error)
{
  int id = dr_engine_config_zone_by_name (&self->config, zone);
  ExcludeJob *job;
  GHashTableIter iter;
  gpointer roller;

  if (id < 0)
    {
      g_autofree char *valid = dr_daemon_zone_names (self);
      g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT, "unknown zone \"%s\"; valid zones: %s",
                   zone, valid);
      return FALSE;
    }
  self->config.zones[id].excluded = excluded;
  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    dr_roller_set_zone_excluded (roller, id, excluded);

  job = g_new0 (ExcludeJob, 1);
  job->zone = g_strdup (zone);
  job->excluded = excluded;
  dr_store_worker_write (self->store, job_set_excluded, job, exclude_job_free);
  return TRUE;
}

/* ---- callbacks --------------------------------------------------------- */

static void
on_committed (guint64 serial, gpointer user_data)
{
  DrDaemon *self = user_data;
  GHashTableIter iter;
  gpointer roller;

  /* A commit with no failed write means the store is well again. */
  if (!self->write_failed)
    dr_service_set_store_error (self->service, "");
  self->write_failed = FALSE;

  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    dr_roller_committed (roller, serial);
}

static void
on_write_failed (guint64 serial, const GError *error, gpointer user_data)
{
  DrDaemon *self = user_data;
  GHashTableIter iter;
  gpointer roller;

  self->write_failed = TRUE;
  dr_service_set_store_error (self->service, error->message);
  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &roller))
    dr_roller_write_failed (roller, serial);
}

static void
on_roller_seen (DrBluez *bluez, const char *address, const char *name, int rssi, gpointer user_data)
{
  DrDaemon *self = user_data;
  DrRoller *roller = dr_daemon_ensure_roller (self, address, name);
  dr_roller_update_seen (roller, name, rssi);
}

static void
on_available_changed (DrBluez *bluez, GParamSpec *pspec, gpointer user_data)
{
  gboolean available = dr_bluez_is_available (bluez);
  g_info ("bluetoothd %s", available ? "with a powered adapter is there" : "or a powered adapter is missing");
}

/* ---- startup ----------------------------------------------------------- */

typedef struct
{
  char *address;
  char *name;
  DrRollerStored stored;
} KnownRoller;

static void
known_roller_free (gpointer data)
{
  KnownRoller *known = data;
  g_free (known->address);
  g_free (known->name);
  g_clear_pointer (&known->stored.unacked_keys, g_array_unref);
  g_free (known);
}

static GPtrArray *
load_store (DrDaemon *self, DrStore *store, GError **error)
{
  g_autoptr (GPtrArray) rollers = NULL;
  g_autoptr (GPtrArray) known = g_ptr_array_new_with_free_func (known_roller_free);
  g_auto (GStrv) excluded = NULL;

  if (!dr_store_max_session_id (store, &self->last_session_id, error))
    return NULL;
  if (!dr_store_zone_last_treated (store, &self->config, self->last_treated, error))
    return NULL;
  excluded = dr_store_excluded_zones (store, error);
  if (excluded == NULL)
    return NULL;
  for (char **z = excluded; *z; z++)
    {
      int id = dr_engine_config_zone_by_name (&self->config, *z);
      if (id >= 0)
        self->config.zones[id].excluded = TRUE;
      else
        g_warning ("%s: excluded zone \"%s\" is not configured any more; ignored",
                   dr_store_get_path (store), *z);
    }
  self->head_revs = dr_store_list_head_revolutions (store, error);
  if (self->head_revs == NULL)
    return NULL;

  rollers = dr_store_list_rollers (store, error);
  if (rollers == NULL)
    return NULL;
  for (guint i = 0; i < rollers->len; i++)
    {
      DrStoreRoller *r = g_ptr_array_index (rollers, i);
      KnownRoller *k = g_new0 (KnownRoller, 1);

      k->address = g_strdup (r->address);
      k->name = g_strdup (r->name);
      k->stored.roller_id = r->id;
      k->stored.paired = r->paired;
      g_ptr_array_add (known, k);
      /* Frames stored but never acknowledged may come again: recognise them. */
      k->stored.unacked_keys = dr_store_unacked_frame_keys (store, r->id, error);
      if (k->stored.unacked_keys == NULL)
        return NULL;
      {
        int64_t end_ms;
        if (!dr_store_last_session (store, r->id, &k->stored.last_session_id,
                                    &k->stored.last_session_start_ms, &end_ms, error))
          return NULL;
      }
    }
  return g_steal_pointer (&known);
}

DrDaemon *
dr_daemon_new (const DrDaemonOptions *options, GError **error)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *db_path = NULL;
  DrDaemon *self = g_new0 (DrDaemon, 1);
  GPtrArray *known;

  self->options = *options;
  self->rollers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) dr_roller_free);
  dr_engine_config_init_defaults (&self->config);
  if (options->config_path)
    {
      g_autoptr (GError) config_error = NULL;
      /* A broken config must not take the daemon down: say exactly what is
       * wrong and run on the defaults. */
      if (!dr_engine_config_load_file (&self->config, options->config_path, &config_error))
        g_warning ("%s; using the built-in defaults", config_error->message);
    }
  dr_notifier_options_init (&self->notifier_options);
  if (options->config_path)
    {
      g_autoptr (GError) config_error = NULL;
      if (!dr_notifier_options_load_file (&self->notifier_options, options->config_path, &config_error))
        g_warning ("%s; notifications use the built-in defaults", config_error->message);
    }

  db_path = options->db_path ? g_strdup (options->db_path) : dr_store_default_path ();
  store = dr_store_open (db_path, error);
  if (store == NULL)
    {
      dr_daemon_free (self);
      return NULL;
    }
  known = load_store (self, store, error);
  if (known == NULL)
    {
      dr_daemon_free (self);
      return NULL;
    }
  self->known_rollers = known;
  g_info ("database %s: %u rollers, last session %" G_GUINT64_FORMAT, db_path, known->len,
          self->last_session_id);
  self->store = dr_store_worker_new (g_steal_pointer (&store), NULL);
  dr_store_worker_set_committed_func (self->store, on_committed, self);
  dr_store_worker_set_failed_func (self->store, on_write_failed, self);
  self->service = dr_service_new (self);
  return self;
}

static void
on_name_lost (gpointer user_data)
{
  DrDaemon *self = user_data;
  if (self->loop)
    g_main_loop_quit (self->loop);
}

gboolean
dr_daemon_start (DrDaemon *self, GMainLoop *loop, GError **error)
{
  self->loop = loop;
  /* Connecting happens once, before the main loop runs. */
  self->system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  if (self->system_bus == NULL)
    return FALSE;
  if (self->options.system)
    self->publish_bus = g_object_ref (self->system_bus);
  else
    {
      self->publish_bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
      if (self->publish_bus == NULL)
        return FALSE;
    }

  /* Desktop notifications belong to a person's session; a system daemon
   * has none to send them to. */
  self->notifier = dr_notifier_new (self->options.notify && !self->options.system
                                      ? self->publish_bus
                                      : NULL,
                                    &self->notifier_options);
  self->bluez = dr_bluez_new (self->system_bus);
  g_signal_connect (self->bluez, "roller-seen", G_CALLBACK (on_roller_seen), self);
  g_signal_connect (self->bluez, "notify::available", G_CALLBACK (on_available_changed), self);
  if (self->known_rollers)
    {
      for (guint i = 0; i < self->known_rollers->len; i++)
        {
          KnownRoller *k = g_ptr_array_index (self->known_rollers, i);
          add_roller (self, k->address, k->name, &k->stored);
        }
      g_clear_pointer (&self->known_rollers, g_ptr_array_unref);
    }
  dr_service_start (self->service, self->publish_bus, G_CALLBACK (on_name_lost), self);
  return TRUE;
}

void
dr_daemon_free (DrDaemon *self)
{
  if (self->rollers)
    {
      GHashTableIter iter;
      gpointer roller;
      g_hash_table_iter_init (&iter, self->rollers);
      while (g_hash_table_iter_next (&iter, NULL, &roller))
        dr_roller_shutdown (roller);
    }
  /* The worker drains and commits durably before it returns. */
  g_clear_pointer (&self->store, dr_store_worker_free);
  g_clear_pointer (&self->rollers, g_hash_table_unref);
  if (self->bluez != NULL)
    g_signal_handlers_disconnect_by_data (self->bluez, self);
  g_clear_object (&self->bluez);
  g_clear_pointer (&self->service, dr_service_free);
  g_clear_pointer (&self->notifier, dr_notifier_free);
  g_clear_pointer (&self->head_revs, g_hash_table_unref);
  g_clear_pointer (&self->known_rollers, g_ptr_array_unref);
  g_clear_object (&self->publish_bus);
  g_clear_object (&self->system_bus);
  g_free (self);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service.c: the Manager1 object and the bus name.
 *
 * Handlers check their arguments, answer bad ones with registered errors
 * (InvalidArgument, NotFound) and hand real work to BlueZ, the rollers or
 * the store worker, completing the invocation when that finishes; every
 * call is completed here, with its result or an error. Nothing here
 * blocks.
 */
#include "service.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "bus-guard.h"
#include "dr-error.h"
#include "dr-quote.h"
#include "sample-export.h"
#include "sd-notify.h"
#include "service-variants.h"
#include "store.h"

#define MANAGER_PATH "/org/dermaroll"
#define BUS_NAME "org.dermaroll"

struct _DrService
{
  DrDBusManager1Skeleton parent_instance;

  /* Collaborators, from construct properties. */
  DrStoreWorker *store;
  char *store_path;
  DrBluez *bluez;
  const DrEngineConfig *config;
  DrHousehold *household;
  DrNotifier *notifier;

  GDBusObjectManagerServer *object_manager;
  GDBusConnection *connection;
  guint guard_id;
  guint name_id;
  /* Cancelled by dr_service_stop (): calls still under way then answer
   * Cancelled rather than run on into a daemon that is going away. */
  GCancellable *cancellable;
  guint n_exports; /* ExportSamples under way */
};

/* Each export holds a thread of GTask's pool and a database connection
 * for as long as its reader takes. */
#define MAX_EXPORTS 4

enum
{
  PROP_0,
  PROP_STORE,
  PROP_STORE_PATH,
  PROP_BLUEZ,
  PROP_CONFIG,
  PROP_HOUSEHOLD,
  PROP_NOTIFIER,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_ENSURE_ROLLER,
  SIGNAL_NAME_LOST,
  SIGNAL_NAME_ACQUIRED,
  SIGNAL_PAIR_FAILED,
  SIGNAL_FORGOTTEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void dr_service_manager1_iface_init (DrDBusManager1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DrService, dr_service, DR_DBUS_TYPE_MANAGER1_SKELETON,
                               G_IMPLEMENT_INTERFACE (DR_DBUS_TYPE_MANAGER1,
                                                      dr_service_manager1_iface_init))

/* An invocation waiting for an asynchronous call, and who answers it. */
typedef struct
{
  DrService *service;
  GDBusMethodInvocation *invocation;
} Call;

static Call *
call_new (DrService *service, GDBusMethodInvocation *invocation)
{
  Call *call = g_new (Call, 1);
  call->service = g_object_ref (service);
  call->invocation = g_object_ref (invocation);
  return call;
}

static void
call_free (Call *call)
{
  g_object_unref (call->service);
  g_object_unref (call->invocation);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

#define MANAGER1(call) DR_DBUS_MANAGER1 ((call)->service)

/* ---- discovery --------------------------------------------------------- */

static void
start_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_bluez_start_discovery_finish (DR_BLUEZ (source), result, &error))
    {
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  dr_dbus_manager1_set_discovering (MANAGER1 (call), TRUE);
  dr_dbus_manager1_complete_start_discovery (MANAGER1 (call), call->invocation);
}

static gboolean
handle_start_discovery (DrDBusManager1 *manager, GDBusMethodInvocation *invocation)
{
  DrService *self = DR_SERVICE (manager);

  dr_bluez_start_discovery (self->bluez, self->cancellable, start_discovery_done,
                            call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
stop_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_bluez_stop_discovery_finish (DR_BLUEZ (source), result, &error))
    {
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  dr_dbus_manager1_set_discovering (MANAGER1 (call), FALSE);
  dr_dbus_manager1_complete_stop_discovery (MANAGER1 (call), call->invocation);
}

static gboolean
handle_stop_discovery (DrDBusManager1 *manager, GDBusMethodInvocation *invocation)
{
  DrService *self = DR_SERVICE (manager);

  dr_bluez_stop_discovery (self->bluez, self->cancellable, stop_discovery_done,
                           call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- rollers ----------------------------------------------------------- */

static void
pair_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  DrRoller *roller = DR_ROLLER (source);
  g_autoptr (GError) error = NULL;

  if (!dr_roller_pair_finish (roller, result, &error))
    {
      /* What the failed Pair made goes before the answer. */
      g_signal_emit (call->service, signals[SIGNAL_PAIR_FAILED], 0, roller);
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  dr_dbus_manager1_complete_pair (MANAGER1 (call), call->invocation,
                                  dr_roller_get_object_path (roller));
}

static gboolean
handle_pair (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, const char *address)
{
  DrService *self = DR_SERVICE (manager);
  g_autofree char *upper = g_ascii_strup (address, -1);
  g_autoptr (DrRoller) roller = NULL;

  if (!dr_bluez_address_is_valid (upper))
    {
      g_autofree char *quoted = dr_quote (address);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "%s is not a Bluetooth address; expected the "
                                             "form AA:BB:CC:DD:EE:FF",
                                             quoted);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_signal_emit (self, signals[SIGNAL_ENSURE_ROLLER], 0, upper, &roller);
  if (roller == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_FAILED,
                                             "no roller can be made for %s", upper);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  dr_roller_pair_async (roller, self->cancellable, pair_done, call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The exported roller at @path, or NULL. Transfer full. */
static DrRoller *
lookup_roller (DrService *self, const char *path)
{
  g_autoptr (GDBusInterface) iface = g_dbus_object_manager_get_interface (
      G_DBUS_OBJECT_MANAGER (self->object_manager), path, "org.dermaroll.Roller1");

  if (iface == NULL || !DR_IS_ROLLER (iface))
    return NULL;
  return DR_ROLLER (g_steal_pointer (&iface));
}

static void
forget_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_roller_forget_finish (DR_ROLLER (source), result, &error))
    {
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  /* Gone from the bus before the answer, so the caller's next look finds
   * what it asked for. */
  g_signal_emit (call->service, signals[SIGNAL_FORGOTTEN], 0, DR_ROLLER (source));
  dr_dbus_manager1_complete_forget (MANAGER1 (call), call->invocation);
}

static gboolean
handle_forget (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, const char *path)
{
  DrService *self = DR_SERVICE (manager);
  g_autoptr (DrRoller) roller = lookup_roller (self, path);

  if (roller == NULL)
    {
      g_autofree char *quoted = dr_quote (path);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_NOT_FOUND,
                                             "no roller at %s", quoted);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  dr_roller_forget_async (roller, self->cancellable, forget_done, call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- queries, answered by the store worker ----------------------------- */

typedef struct
{
  int64_t since_ms;
  int64_t until_ms;
  guint64 session_id;
} QueryArgs;

static gpointer
query_list_sessions (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows
      = dr_store_list_sessions (store, args->since_ms, args->until_ms, error);
  return rows ? dr_sessions_to_variant (rows) : NULL;
}

static gpointer
query_session_coverage (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_session_coverage (store, args->session_id, error);
  return rows ? dr_coverage_to_variant (rows) : NULL;
}

static gpointer
query_session_coverage_by_direction (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_session_coverage (store, args->session_id, error);
  return rows ? dr_coverage_by_direction_to_variant (rows) : NULL;
}

static gpointer
query_session_info (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  uint16_t needle_length_um;
  uint32_t head_id;
  GVariantBuilder builder;

  if (!dr_store_session_head (store, args->session_id, &needle_length_um, &head_id, error))
    return NULL;
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&builder, "{sv}", "needle-length-um",
                         g_variant_new_uint16 (needle_length_um));
  g_variant_builder_add (&builder, "{sv}", "head-id", g_variant_new_uint32 (head_id));
  return g_variant_builder_end (&builder);
}

static gpointer
query_session_events (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_session_events (store, args->session_id, error);
  return rows ? dr_events_to_variant (rows) : NULL;
}

static gpointer
query_session_samples (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GArray) rows = dr_store_session_samples (store, args->session_id, error);
  return rows ? dr_samples_to_variant (rows) : NULL;
}

static void
query_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *value;

  value = dr_store_worker_query_finish (call->service->store, result, &error);
  if (value == NULL)
    {
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  g_dbus_method_invocation_return_value (call->invocation, g_variant_new_tuple (&value, 1));
}

static void
run_query (DrService *self, GDBusMethodInvocation *invocation, DrStoreQueryFunc func,
           QueryArgs *args)
{
  dr_store_worker_query (self->store, func, g_memdup2 (args, sizeof *args), g_free,
                         self->cancellable, query_done, call_new (self, invocation));
}

static gboolean
handle_list_sessions (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, gint64 since_ms,
                      gint64 until_ms)
{
  QueryArgs args = { .since_ms = since_ms, .until_ms = until_ms };

  if (until_ms != 0 && until_ms <= since_ms)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "until_ms (%" G_GINT64_FORMAT ") must be 0 or after "
                                             "since_ms (%" G_GINT64_FORMAT ")",
                                             until_ms, since_ms);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  run_query (DR_SERVICE (manager), invocation, query_list_sessions, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_coverage (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, guint64 id)
{
  QueryArgs args = { .session_id = id };
  run_query (DR_SERVICE (manager), invocation, query_session_coverage, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_coverage_by_direction (DrDBusManager1 *manager,
                                          GDBusMethodInvocation *invocation, guint64 id)
{
  QueryArgs args = { .session_id = id };
  run_query (DR_SERVICE (manager), invocation, query_session_coverage_by_direction, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_info (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, guint64 id)
{
  QueryArgs args = { .session_id = id };
  run_query (DR_SERVICE (manager), invocation, query_session_info, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_events (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, guint64 id)
{
  QueryArgs args = { .session_id = id };
  run_query (DR_SERVICE (manager), invocation, query_session_events, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_samples (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, guint64 id)
{
  QueryArgs args = { .session_id = id };
  run_query (DR_SERVICE (manager), invocation, query_session_samples, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- sample export ---------------------------------------------------- */

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;
  guint64 count = 0;

  call->service->n_exports--;
  if (!dr_sample_export_finish (result, &count, &error))
    {
      g_debug ("ExportSamples: stopped after %" G_GUINT64_FORMAT " samples: %s", count,
               error->message);
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  dr_dbus_manager1_complete_export_samples (MANAGER1 (call), call->invocation, NULL, count);
}

static gboolean
handle_export_samples (DrDBusManager1 *manager, GDBusMethodInvocation *invocation,
                       GUnixFDList *fd_list, guint64 id, GVariant *handle)
{
  DrService *self = DR_SERVICE (manager);
  gint32 index = g_variant_get_handle (handle);
  g_autoptr (GError) error = NULL;
  int fd, flags;

  if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length (fd_list))
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "fd: handle %d names no file descriptor passed "
                                             "with the call",
                                             index);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  fd = g_unix_fd_list_get (fd_list, index, &error);
  if (fd < 0)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "fd: %s", error->message);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
    {
      close (fd);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "fd: not open for writing");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (self->n_exports >= MAX_EXPORTS)
    {
      close (fd);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_BUSY,
                                             "%d exports are running already; try again when "
                                             "one has finished",
                                             MAX_EXPORTS);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  self->n_exports++;
  dr_sample_export_async (self->store_path, id, fd, self->cancellable, export_done,
                          call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- people ------------------------------------------------------------ */

/* The exported person at @path, or NULL. Transfer full. */
static DrPerson *
lookup_person (DrService *self, const char *path)
{
  g_autoptr (GDBusInterface) iface = NULL;

  if (!g_variant_is_object_path (path))
    return NULL;
  iface = g_dbus_object_manager_get_interface (G_DBUS_OBJECT_MANAGER (self->object_manager), path,
                                               "org.dermaroll.Person1");
  if (iface == NULL || !DR_IS_PERSON (iface))
    return NULL;
  return DR_PERSON (g_steal_pointer (&iface));
}

/* Every exported roller; element type DrRoller*, references held. */
static GPtrArray *
list_rollers (DrService *self)
{
  GList *objects = g_dbus_object_manager_get_objects (G_DBUS_OBJECT_MANAGER (self->object_manager));
  GPtrArray *rollers = g_ptr_array_new_with_free_func (g_object_unref);

  for (GList *l = objects; l != NULL; l = l->next)
    {
      GDBusInterface *iface = g_dbus_object_get_interface (l->data, "org.dermaroll.Roller1");

      if (iface != NULL && DR_IS_ROLLER (iface))
        g_ptr_array_add (rollers, iface);
      else if (iface != NULL)
        g_object_unref (iface);
    }
  g_list_free_full (objects, g_object_unref);
  return rollers;
}

static GError *
no_person_error (const char *path)
{
  g_autofree char *quoted = dr_quote (path);
  return g_error_new (DR_ERROR, DR_ERROR_NOT_FOUND, "no person at %s", quoted);
}

/* A person's zone was excluded or included: their rollers learn it. */
static void
on_person_zone_excluded (DrPerson *person, int zone, gboolean excluded, gpointer user_data)
{
  DrService *self = user_data;
  g_autoptr (GPtrArray) rollers = list_rollers (self);

  for (guint i = 0; i < rollers->len; i++)
    {
      DrRoller *roller = g_ptr_array_index (rollers, i);

      if (dr_roller_get_person_id (roller) == dr_person_get_id (person))
        dr_roller_set_zone_excluded (roller, zone, excluded);
    }
}

/* A write of AddPerson's or RemovePerson's, and what the store said. */
typedef struct
{
  Call *call;
  gint64 person_id;
  char *name;
  gboolean delete_data;
  GError *refusal; /* the store refused: nothing was written */
} PeopleJob;

static void
people_job_free (PeopleJob *job)
{
  g_clear_pointer (&job->call, call_free);
  g_free (job->name);
  g_clear_error (&job->refusal);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeopleJob, people_job_free)

static gboolean
job_add_person (DrStore *store, gpointer data, GError **error)
{
  PeopleJob *job = data;
  GError *local = NULL;

  if (dr_store_add_person (store, job->name, &job->person_id, &local))
    return TRUE;
  return dr_store_split_refusal (local, &job->refusal, error);
}

static void
add_person_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PeopleJob) job = user_data;
  DrService *self = job->call->service;
  g_autoptr (GError) error = NULL;
  g_autoptr (DrPerson) person = NULL;
  gboolean excluded[DR_MAX_ZONES] = { FALSE };

  if (!dr_store_worker_write_finish (DR_STORE_WORKER (source), result, &error))
    {
      dr_error_return_gerror (job->call->invocation, error);
      return;
    }
  if (job->refusal != NULL)
    {
      dr_error_return_gerror (job->call->invocation, job->refusal);
      return;
    }
  /* The configuration's excluded zones are everyone's. */
  for (unsigned z = 0; z < self->config->n_zones && z < DR_MAX_ZONES; z++)
    excluded[z] = self->config->zones[z].excluded;
  dr_household_add_person (self->household, job->person_id, NULL, excluded);
  person = dr_person_new (job->person_id, job->name, self->household, self->store, self->config);
  dr_service_export_person (self, person);
  g_info ("person %" G_GINT64_FORMAT " added", job->person_id);
  dr_dbus_manager1_complete_add_person (MANAGER1 (job->call), job->call->invocation,
                                        dr_person_get_object_path (person));
}

static gboolean
handle_add_person (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, const char *name)
{
  DrService *self = DR_SERVICE (manager);
  g_autoptr (GError) error = NULL;
  PeopleJob *job;

  if (!dr_store_check_person_name (name, &error))
    {
      dr_error_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  job = g_new0 (PeopleJob, 1);
  job->call = call_new (self, invocation);
  job->name = g_strdup (name);
  /* The store checks the name in the order of the calls: two AddPerson of
   * one name cannot both pass. */
  dr_store_worker_write_async (self->store, job_add_person, job, NULL, add_person_written, job);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
job_remove_person (DrStore *store, gpointer data, GError **error)
{
  PeopleJob *job = data;
  GError *local = NULL;

  if (dr_store_remove_person (store, job->person_id, job->delete_data, &local))
    return TRUE;
  return dr_store_split_refusal (local, &job->refusal, error);
}

static void
remove_person_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PeopleJob) job = user_data;
  DrService *self = job->call->service;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = dr_person_object_path (job->person_id);

  if (!dr_store_worker_write_finish (DR_STORE_WORKER (source), result, &error))
    {
      dr_error_return_gerror (job->call->invocation, error);
      return;
    }
  if (job->refusal != NULL)
    {
      dr_error_return_gerror (job->call->invocation, job->refusal);
      return;
    }
  /* Off the bus before the answer, like a forgotten roller. */
  g_dbus_object_manager_server_unexport (self->object_manager, path);
  dr_household_remove_person (self->household, job->person_id);
  g_info ("person %" G_GINT64_FORMAT " removed%s", job->person_id,
          job->delete_data ? " with their sessions" : "; their sessions are nobody's now");
  dr_dbus_manager1_complete_remove_person (MANAGER1 (job->call), job->call->invocation);
}

static gboolean
handle_remove_person (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, const char *path,
                      gboolean delete_data)
{
  DrService *self = DR_SERVICE (manager);
  g_autoptr (DrPerson) person = lookup_person (self, path);
  g_autoptr (GPtrArray) rollers = NULL;
  gint64 default_person = dr_household_get_default_person (self->household);
  PeopleJob *job;
  gint64 id;

  if (person == NULL)
    {
      g_dbus_method_invocation_take_error (invocation, no_person_error (path));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  id = dr_person_get_id (person);
  if (id == default_person)
    {
      g_autofree char *quoted = dr_quote (dr_dbus_person1_get_name (DR_DBUS_PERSON1 (person)));

      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_REFUSED,
                                             "%s is the default person, who always exists; "
                                             "rename them instead",
                                             quoted);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  rollers = list_rollers (self);
  for (guint i = 0; i < rollers->len; i++)
    {
      DrRoller *roller = g_ptr_array_index (rollers, i);

      if (dr_roller_get_person_id (roller) == id
          && dr_dbus_roller1_get_active_session (DR_DBUS_ROLLER1 (roller)) != 0)
        {
          g_dbus_method_invocation_return_error (
              invocation, DR_ERROR, DR_ERROR_BUSY,
              "%s has a session in progress on roller %s (session %" G_GUINT64_FORMAT ")", path,
              dr_roller_get_address (roller),
              dr_dbus_roller1_get_active_session (DR_DBUS_ROLLER1 (roller)));
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
    }
  /* Their rollers are the default person's from now on, before any of
   * them can start a session for someone who is going (the store's write
   * moves them too, in the same transaction). */
  for (guint i = 0; i < rollers->len; i++)
    {
      DrRoller *roller = g_ptr_array_index (rollers, i);

      if (dr_roller_get_person_id (roller) == id)
        dr_roller_take_person (roller, default_person);
    }
  job = g_new0 (PeopleJob, 1);
  job->call = call_new (self, invocation);
  job->person_id = id;
  job->delete_data = delete_data;
  dr_store_worker_write_async (self->store, job_remove_person, job, NULL, remove_person_written,
                               job);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct
{
  int64_t since_ms;
  int64_t until_ms;
  gint64 person_id;
} PersonQueryArgs;

static gpointer
query_list_person_sessions (DrStore *store, gpointer data, GError **error)
{
  PersonQueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_list_person_sessions (store, args->since_ms, args->until_ms,
                                                              args->person_id, error);
  return rows ? dr_person_sessions_to_variant (rows) : NULL;
}

static void query_done (GObject *source, GAsyncResult *result, gpointer user_data);

static gboolean
handle_list_person_sessions (DrDBusManager1 *manager, GDBusMethodInvocation *invocation,
                             gint64 since_ms, gint64 until_ms, const char *path)
{
  DrService *self = DR_SERVICE (manager);
  PersonQueryArgs *args;
  gint64 person_id = 0;

  if (until_ms != 0 && until_ms <= since_ms)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "until_ms (%" G_GINT64_FORMAT ") must be 0 or after "
                                             "since_ms (%" G_GINT64_FORMAT ")",
                                             until_ms, since_ms);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!g_str_equal (path, "/")
      && (!dr_person_id_from_path (path, &person_id)
          || !dr_household_has_person (self->household, person_id)))
    {
      g_dbus_method_invocation_take_error (invocation, no_person_error (path));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  args = g_new0 (PersonQueryArgs, 1);
  args->since_ms = since_ms;
  args->until_ms = until_ms;
  args->person_id = person_id;
  dr_store_worker_query (self->store, query_list_person_sessions, args, g_free, self->cancellable,
                         query_done, call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- zones ------------------------------------------------------------- */

static gboolean
handle_get_zones (DrDBusManager1 *manager, GDBusMethodInvocation *invocation)
{
  DrService *self = DR_SERVICE (manager);
  const DrEngineConfig *config = self->config;
  gint64 person = dr_household_get_default_person (self->household);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ysddb)"));
  for (unsigned z = 0; z < config->n_zones; z++)
    {
      const DrZoneSpec *spec = &config->zones[z];
      if (spec->name[0] == '\0')
        continue;
      /* Excluded: the default person's, as SetZoneExcluded sets it. */
      g_variant_builder_add (&builder, "(ysddb)", (guchar) z, spec->name, spec->area_cm2,
                             spec->target_passes,
                             dr_household_is_zone_excluded (self->household, person, (int) z));
    }
  dr_dbus_manager1_complete_get_zones (manager, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
set_zone_excluded_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_person_set_zone_excluded_finish (DR_PERSON (source), result, &error))
    {
      dr_error_return_gerror (call->invocation, error);
      return;
    }
  dr_dbus_manager1_complete_set_zone_excluded (MANAGER1 (call), call->invocation);
}

static gboolean
handle_set_zone_excluded (DrDBusManager1 *manager, GDBusMethodInvocation *invocation,
                          const char *zone, gboolean excluded)
{
  DrService *self = DR_SERVICE (manager);
  int id = dr_engine_config_zone_by_name (self->config, zone);
  g_autoptr (DrPerson) person = NULL;

  if (id < 0)
    {
      g_autofree char *valid = dr_engine_config_list_zone_names (self->config);
      g_autofree char *quoted = dr_quote (zone);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "unknown zone %s; valid zones: %s", quoted, valid);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  person = lookup_person (self, dr_dbus_manager1_get_default_person (manager));
  if (person == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_FAILED,
                                             "the default person is not on the bus");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  dr_person_set_zone_excluded_async (person, id, excluded, set_zone_excluded_done,
                                     call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- notification kinds ------------------------------------------------ */

static void
update_notification_kinds (DrService *self)
{
  GVariantBuilder kinds;

  g_variant_builder_init (&kinds, G_VARIANT_TYPE ("a(sb)"));
  for (guint i = 0; i < DR_N_NOTIFY_KINDS; i++)
    g_variant_builder_add (&kinds, "(sb)", dr_notify_kind_key (i),
                           dr_notifier_get_enabled (self->notifier, i));
  dr_dbus_manager1_set_notification_kinds (DR_DBUS_MANAGER1 (self), g_variant_builder_end (&kinds));
}

typedef struct
{
  Call *call;
  DrNotifyKind kind;
  gboolean enabled;
} NotifyJob;

static void
notify_job_free (NotifyJob *job)
{
  g_clear_pointer (&job->call, call_free);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NotifyJob, notify_job_free)

static gboolean
job_set_notification (DrStore *store, gpointer data, GError **error)
{
  NotifyJob *job = data;

  return dr_store_set_notification_enabled (store, dr_notify_kind_key (job->kind), job->enabled,
                                            error);
}

static void
set_notification_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (NotifyJob) job = user_data;
  DrService *self = job->call->service;
  g_autoptr (GError) error = NULL;

  if (!dr_store_worker_write_finish (DR_STORE_WORKER (source), result, &error))
    {
      dr_error_return_gerror (job->call->invocation, error);
      return;
    }
  dr_notifier_set_enabled (self->notifier, job->kind, job->enabled);
  update_notification_kinds (self);
  g_info ("%s notifications %s", dr_notify_kind_key (job->kind),
          job->enabled ? "enabled" : "disabled");
  dr_dbus_manager1_complete_set_notification_enabled (MANAGER1 (job->call), job->call->invocation);
}

static gboolean
handle_set_notification_enabled (DrDBusManager1 *manager, GDBusMethodInvocation *invocation,
                                 const char *kind, gboolean enabled)
{
  DrService *self = DR_SERVICE (manager);
  NotifyJob *job;
  DrNotifyKind id;

  if (!dr_notify_kind_from_key (kind, &id))
    {
      g_autofree char *valid = dr_notify_kind_list_keys ();
      g_autofree char *quoted = dr_quote (kind);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "unknown notification kind %s; valid kinds: %s",
                                             quoted, valid);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  job = g_new0 (NotifyJob, 1);
  job->call = call_new (self, invocation);
  job->kind = id;
  job->enabled = enabled;
  /* Switched once stored: what the property says survives a restart. */
  dr_store_worker_write_async (self->store, job_set_notification, job, NULL,
                               set_notification_written, job);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
dr_service_manager1_iface_init (DrDBusManager1Iface *iface)
{
  iface->handle_set_notification_enabled = handle_set_notification_enabled;
  iface->handle_start_discovery = handle_start_discovery;
  iface->handle_stop_discovery = handle_stop_discovery;
  iface->handle_pair = handle_pair;
  iface->handle_forget = handle_forget;
  iface->handle_list_sessions = handle_list_sessions;
  iface->handle_get_session_coverage = handle_get_session_coverage;
  iface->handle_get_session_coverage_by_direction = handle_get_session_coverage_by_direction;
  iface->handle_get_session_info = handle_get_session_info;
  iface->handle_get_session_events = handle_get_session_events;
  iface->handle_get_session_samples = handle_get_session_samples;
  iface->handle_export_samples = handle_export_samples;
  iface->handle_get_zones = handle_get_zones;
  iface->handle_set_zone_excluded = handle_set_zone_excluded;
  iface->handle_add_person = handle_add_person;
  iface->handle_remove_person = handle_remove_person;
  iface->handle_list_person_sessions = handle_list_person_sessions;
}

/* ---- the bus ----------------------------------------------------------- */

void
dr_service_export_roller (DrService *self, DrRoller *roller)
{
  g_autoptr (DrDBusObjectSkeleton) object = NULL;

  g_return_if_fail (DR_IS_SERVICE (self));
  g_return_if_fail (DR_IS_ROLLER (roller));

  object = dr_dbus_object_skeleton_new (dr_roller_get_object_path (roller));
  dr_dbus_object_skeleton_set_roller1 (object, DR_DBUS_ROLLER1 (roller));
  g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
}

void
dr_service_unexport_roller (DrService *self, DrRoller *roller)
{
  g_return_if_fail (DR_IS_SERVICE (self));
  g_return_if_fail (DR_IS_ROLLER (roller));

  g_dbus_object_manager_server_unexport (self->object_manager, dr_roller_get_object_path (roller));
}

void
dr_service_export_person (DrService *self, DrPerson *person)
{
  g_autoptr (DrDBusObjectSkeleton) object = NULL;

  g_return_if_fail (DR_IS_SERVICE (self));
  g_return_if_fail (DR_IS_PERSON (person));

  g_signal_connect_object (person, "zone-excluded", G_CALLBACK (on_person_zone_excluded), self, 0);
  object = dr_dbus_object_skeleton_new (dr_person_get_object_path (person));
  dr_dbus_object_skeleton_set_person1 (object, DR_DBUS_PERSON1 (person));
  g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
  if (dr_person_get_id (person) == dr_household_get_default_person (self->household))
    dr_dbus_manager1_set_default_person (DR_DBUS_MANAGER1 (self),
                                         dr_person_get_object_path (person));
}

void
dr_service_set_store_error (DrService *self, const char *message)
{
  g_return_if_fail (DR_IS_SERVICE (self));
  dr_dbus_manager1_set_store_error (DR_DBUS_MANAGER1 (self), message);
}

static void
name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  DrService *self = user_data;

  g_info ("serving %s", name);
  g_signal_emit (self, signals[SIGNAL_NAME_ACQUIRED], 0);
  /* Type=dbus units are ready when the name appears anyway; READY=1 also
   * starts the watchdog pings. */
  dr_sd_notify_ready ();
}

static void
name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  DrService *self = user_data;

  g_warning ("lost or could not own the bus name %s (is another dermarolld running?)", name);
  g_signal_emit (self, signals[SIGNAL_NAME_LOST], 0);
}

void
dr_service_start (DrService *self, GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (DR_IS_SERVICE (self));
  g_return_if_fail (self->connection == NULL);

  self->connection = g_object_ref (connection);
  self->guard_id = dr_bus_guard_install (connection);
  g_dbus_object_manager_server_set_connection (self->object_manager, connection);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), connection, MANAGER_PATH,
                                         &error))
    g_warning ("cannot export %s: %s", MANAGER_PATH, error->message);
  /* The objects are there before the name, so a client that sees the name
   * finds them. */
  self->name_id = g_bus_own_name_on_connection (connection, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                                name_acquired, name_lost, self, NULL);
}

/* ---- life cycle -------------------------------------------------------- */

static void
dr_service_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrService *self = DR_SERVICE (object);

  switch (prop_id)
    {
      case PROP_STORE:
        self->store = g_value_dup_object (value);
        break;
      case PROP_STORE_PATH:
        self->store_path = g_value_dup_string (value);
        break;
      case PROP_BLUEZ:
        self->bluez = g_value_dup_object (value);
        break;
      case PROP_CONFIG:
        self->config = g_value_get_pointer (value);
        break;
      case PROP_HOUSEHOLD:
        self->household = g_value_dup_object (value);
        break;
      case PROP_NOTIFIER:
        self->notifier = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_service_constructed (GObject *object)
{
  G_OBJECT_CLASS (dr_service_parent_class)->constructed (object);
  update_notification_kinds (DR_SERVICE (object));
}

static void
dr_service_dispose (GObject *object)
{
  DrService *self = DR_SERVICE (object);

  g_clear_handle_id (&self->name_id, g_bus_unown_name);
  if (self->connection)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
  if (self->guard_id != 0)
    g_dbus_connection_remove_filter (self->connection, self->guard_id);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->connection);
  g_clear_object (&self->store);
  g_clear_object (&self->bluez);
  g_clear_object (&self->household);
  g_clear_object (&self->notifier);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->store_path, g_free);
  G_OBJECT_CLASS (dr_service_parent_class)->dispose (object);
}

static void
dr_service_class_init (DrServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = dr_service_set_property;
  object_class->constructed = dr_service_constructed;
  object_class->dispose = dr_service_dispose;

  /* The config is a plain struct the daemon owns and outlives the service with. */
  props[PROP_STORE] = g_param_spec_object ("store", NULL, NULL, DR_TYPE_STORE_WORKER, flags);
  props[PROP_STORE_PATH] = g_param_spec_string ("store-path", NULL, NULL, NULL, flags);
  props[PROP_BLUEZ] = g_param_spec_object ("bluez", NULL, NULL, DR_TYPE_BLUEZ, flags);
  props[PROP_CONFIG] = g_param_spec_pointer ("config", NULL, NULL, flags);
  props[PROP_HOUSEHOLD] = g_param_spec_object ("household", NULL, NULL, DR_TYPE_HOUSEHOLD, flags);
  props[PROP_NOTIFIER] = g_param_spec_object ("notifier", NULL, NULL, DR_TYPE_NOTIFIER, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_ENSURE_ROLLER] = g_signal_new (
      "ensure-roller", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      g_signal_accumulator_first_wins, NULL, NULL, DR_TYPE_ROLLER, 1, G_TYPE_STRING);
  signals[SIGNAL_NAME_LOST] = g_signal_new ("name-lost", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* A Pair failed (the roller's own object; whoever made it for the Pair
   * may drop it), and a Forget completed. */
  signals[SIGNAL_PAIR_FAILED]
      = g_signal_new ("pair-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, DR_TYPE_ROLLER);
  signals[SIGNAL_FORGOTTEN]
      = g_signal_new ("forgotten", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, DR_TYPE_ROLLER);
  /* Work that must not delay the name (the integrity check) waits for it. */
  signals[SIGNAL_NAME_ACQUIRED]
      = g_signal_new ("name-acquired", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
}

static void
dr_service_init (DrService *self)
{
  self->object_manager = g_dbus_object_manager_server_new (MANAGER_PATH);
  self->cancellable = g_cancellable_new ();
  dr_dbus_manager1_set_version (DR_DBUS_MANAGER1 (self), PACKAGE_VERSION);
  dr_dbus_manager1_set_store_error (DR_DBUS_MANAGER1 (self), "");
  dr_dbus_manager1_set_default_person (DR_DBUS_MANAGER1 (self), "/");
}

DrService *
dr_service_new (DrStoreWorker *store, const char *store_path, DrBluez *bluez,
                const DrEngineConfig *config, DrHousehold *household, DrNotifier *notifier)
{
  return g_object_new (DR_TYPE_SERVICE, "store", store, "store-path", store_path, "bluez", bluez,
                       "config", config, "household", household, "notifier", notifier, NULL);
}

void
dr_service_stop (DrService *self)
{
  g_return_if_fail (DR_IS_SERVICE (self));

  g_cancellable_cancel (self->cancellable);
}

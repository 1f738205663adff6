/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-bluez-link.c: DrBluez and DrBluezLink against the roller emulator.
 *
 * Each test starts its own dbus-daemon and roller emulator (the stand-in
 * for bluetoothd, $DR_ROLLER_EMULATOR), drives a DrBluez and a DrBluezLink
 * on the main loop, and checks what the link does through its callbacks
 * and what the roller saw through the emulator's Emulator1 interface.
 * Children get SIGKILL when this process dies (PR_SET_PDEATHSIG), so a
 * failed assertion leaves nothing running; teardown stops them itself
 * otherwise.
 */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "bluez-link.h"
#include "bluez.h"
#include "control-point.h"
#include "dr-error.h"
#include "roller-protocol.h"

#define ROLLER "C0:FF:EE:00:00:01"
#define ROLLER_ARG ROLLER ",Test Roller"
#define EMU_NAME "org.dermaroll.Emulator"
#define EMU_PATH "/org/dermaroll/Emulator"
#define EMU_IFACE "org.dermaroll.Emulator1"

typedef struct
{
  const char *const *emulator_args; /* beyond --bus/--roller */
} Params;

typedef struct
{
  gint64 time_us;
  DrLinkState state;
} StateChange;

typedef struct
{
  gboolean skip;
  GSubprocess *dbus_daemon;
  GSubprocess *emulator;
  GCancellable *cancellable;
  char *bus_address;
  GDBusConnection *bus;
  DrBluez *bluez;
  DrBluezLink *link;

  /* what the callbacks saw */
  GArray *states; /* StateChange */
  guint frames;
  guint decode_errors;
  guint history_frames;
  guint live_frames;
  gboolean live_before_history; /* a history frame after a live one */
  guint16 last_seq;
  guint16 last_live_seq;
  gboolean head_info_seen;
  DrHeadInfo head;
  gboolean status_seen;
  DrStatus status;
  int battery;
  char *firmware;
  guint bad_values;
  guint rollers_seen;

  gboolean done;
  GError *error;
} Fixture;

/* ---- main loop helpers ----------------------------------------------------- */

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static void
iterate (guint max_ms)
{
  guint id = g_timeout_add (max_ms, wake_cb, NULL);
  GSource *source;

  g_main_context_iteration (NULL, TRUE);
  source = g_main_context_find_source_by_id (NULL, id);
  if (source != NULL)
    g_source_destroy (source);
}

#define WAIT_UNTIL(cond, timeout_ms)                                                               \
  G_STMT_START                                                                                     \
  {                                                                                                \
    gint64 wait_end_ = g_get_monotonic_time () + (gint64) (timeout_ms) *1000;                      \
    while (!(cond))                                                                                \
      {                                                                                            \
        if (g_get_monotonic_time () > wait_end_)                                                   \
          g_error ("%s:%d: timed out after %d ms waiting for %s", __FILE__, __LINE__,              \
                   (int) (timeout_ms), #cond);                                                     \
        iterate (50);                                                                              \
      }                                                                                            \
  }                                                                                                \
  G_STMT_END

static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    iterate (MAX (1, (guint) ((end - g_get_monotonic_time ()) / 1000)));
}

/* ---- processes -------------------------------------------------------------- */

static void
child_setup (gpointer data)
{
  /* Whatever happens to the test (an assertion aborts it), its children
   * go with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn (const char *const *argv, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

typedef struct
{
  char *line;
  gboolean eof;
  gboolean done;
} LineRead;

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LineRead *r = user_data;
  g_autoptr (GError) error = NULL;

  r->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                       &error);
  r->eof = r->line == NULL;
  r->done = TRUE;
}

/* Reads lines of @process's stdout until one starts with @prefix. */
static char *
read_line_with_prefix (GDataInputStream *in, const char *prefix, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      LineRead r = { 0 };

      g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, on_line, &r);
      while (!r.done)
        {
          if (g_get_monotonic_time () > end)
            g_error ("timed out waiting for a line starting with '%s'", prefix);
          iterate (50);
        }
      if (r.eof)
        g_error ("the child exited before printing '%s'", prefix);
      if (g_str_has_prefix (r.line, prefix))
        return r.line;
      g_free (r.line);
    }
}

static void
on_discard (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes
      = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (bytes != NULL && g_bytes_get_size (bytes) > 0)
    g_input_stream_read_bytes_async (G_INPUT_STREAM (source), 4096, G_PRIORITY_DEFAULT, user_data,
                                     on_discard, user_data);
}

/* Keeps reading what the child prints, so that it never blocks on a full
 * pipe. */
static void
discard_output (GInputStream *in, GCancellable *cancellable)
{
  g_input_stream_read_bytes_async (in, 4096, G_PRIORITY_DEFAULT, cancellable, on_discard,
                                   cancellable);
}

static void
on_process_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

static void
stop_process (GSubprocess **process)
{
  gboolean exited = FALSE;
  gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

  if (*process == NULL)
    return;
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait_async (*process, NULL, on_process_exited, &exited);
  while (!exited && g_get_monotonic_time () < end)
    iterate (50);
  if (!exited)
    {
      g_subprocess_force_exit (*process);
      while (!exited)
        iterate (50);
    }
  g_clear_object (process);
}

/* ---- callbacks ----------------------------------------------------------------- */

static void
on_state_changed (DrBluezLink *link, DrLinkState state, gpointer user_data)
{
  Fixture *f = user_data;
  StateChange change = { g_get_monotonic_time (), state };

  g_test_message ("link state %d", state);
  g_array_append_val (f->states, change);
}

static void
on_frame (DrBluezLink *link, const guint8 *data, guint len, gpointer user_data)
{
  Fixture *f = user_data;
  DrFrame frame;

  f->frames++;
  if (dr_frame_decode (data, len, &frame) != DR_CODEC_OK)
    {
      f->decode_errors++;
      return;
    }
  f->last_seq = frame.seq;
  if (frame.flags & DR_FRAME_FLAG_HISTORY)
    {
      f->history_frames++;
      if (f->live_frames > 0)
        f->live_before_history = TRUE;
    }
  else
    {
      f->live_frames++;
      f->last_live_seq = frame.seq;
    }
}

static void
on_head_info (DrBluezLink *link, const DrHeadInfo *head, gpointer user_data)
{
  Fixture *f = user_data;

  f->head_info_seen = TRUE;
  f->head = *head;
}

static void
on_status (DrBluezLink *link, const DrStatus *status, gpointer user_data)
{
  Fixture *f = user_data;

  f->status_seen = TRUE;
  f->status = *status;
}

static void
on_battery (DrBluezLink *link, guint percent, gpointer user_data)
{
  Fixture *f = user_data;

  f->battery = percent;
}

static void
on_device_info (DrBluezLink *link, const char *manufacturer, const char *model, const char *serial,
                const char *firmware, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_nonnull (manufacturer);
  g_assert_nonnull (model);
  g_assert_nonnull (serial);
  g_assert_nonnull (firmware);
  g_free (f->firmware);
  f->firmware = g_strdup (firmware);
}

static void
on_bad_value (DrBluezLink *link, const char *uuid, DrCodecStatus status, gpointer user_data)
{
  Fixture *f = user_data;

  f->bad_values++;
}

static void
connect_link (Fixture *f)
{
  g_signal_connect (f->link, "state-changed", G_CALLBACK (on_state_changed), f);
  g_signal_connect (f->link, "frame", G_CALLBACK (on_frame), f);
  g_signal_connect (f->link, "head-info", G_CALLBACK (on_head_info), f);
  g_signal_connect (f->link, "status", G_CALLBACK (on_status), f);
  g_signal_connect (f->link, "battery", G_CALLBACK (on_battery), f);
  g_signal_connect (f->link, "device-info", G_CALLBACK (on_device_info), f);
  g_signal_connect (f->link, "bad-value", G_CALLBACK (on_bad_value), f);
}

static void
on_roller_seen (DrBluez *bluez, const char *address, const char *name, int rssi, gpointer user_data)
{
  Fixture *f = user_data;

  if (g_str_equal (address, ROLLER))
    f->rollers_seen++;
}

/* ---- emulator control ---------------------------------------------------------- */

static GVariant *
emu_call (Fixture *f, const char *method, GVariant *params, const char *reply_type)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_connection_call_sync (f->bus, EMU_NAME, EMU_PATH, EMU_IFACE, method, params,
                                       reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, &error);
  g_assert_no_error (error);
  return reply;
}

/* A call without an answer worth keeping. */
static void
emu_do (Fixture *f, const char *method, GVariant *params)
{
  g_autoptr (GVariant) reply = NULL;

  reply = emu_call (f, method, params, NULL);
}

static gint64
roller_stat (Fixture *f, const char *key)
{
  g_autoptr (GVariant) reply
      = emu_call (f, "RollerStats", g_variant_new ("(s)", ROLLER), "(a{sv})");
  g_autoptr (GVariant) stats = g_variant_get_child_value (reply, 0);
  g_autoptr (GVariant) value = g_variant_lookup_value (stats, key, NULL);

  if (value == NULL)
    g_error ("RollerStats has no '%s': %s", key, g_variant_print (stats, TRUE));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return g_variant_get_int32 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return g_variant_get_int64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return (gint64) g_variant_get_uint64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    return g_variant_get_uint16 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_variant_get_boolean (value);
  g_error ("RollerStats '%s' has an unexpected type %s", key, g_variant_get_type_string (value));
  return 0;
}

/* ---- fixture ------------------------------------------------------------------- */

static void
start_emulator (Fixture *f, const Params *params)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *ready = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("DR_ROLLER_EMULATOR"));
  g_ptr_array_add (argv, "--bus");
  g_ptr_array_add (argv, f->bus_address);
  g_ptr_array_add (argv, "--adapter-index");
  g_ptr_array_add (argv, "3");
  g_ptr_array_add (argv, "--roller");
  g_ptr_array_add (argv, ROLLER_ARG);
  g_ptr_array_add (argv, "--pattern");
  g_ptr_array_add (argv, "face");
  for (guint i = 0; params && params->emulator_args && params->emulator_args[i]; i++)
    g_ptr_array_add (argv, (gpointer) params->emulator_args[i]);
  g_ptr_array_add (argv, NULL);

  f->emulator = spawn ((const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->emulator));
  ready = read_line_with_prefix (out, "READY", 10000);
  g_test_message ("emulator: %s", ready);
  discard_output (G_INPUT_STREAM (out), f->cancellable);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  const Params *params = data;
  const char *emulator = g_getenv ("DR_ROLLER_EMULATOR");
  const char *const dbus_argv[]
      = { "dbus-daemon", "--session", "--nofork", "--print-address=1", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;

  memset (f, 0, sizeof *f);
  f->states = g_array_new (FALSE, FALSE, sizeof (StateChange));
  f->battery = -1;
  f->cancellable = g_cancellable_new ();
  if (emulator == NULL || !g_file_test (emulator, G_FILE_TEST_IS_EXECUTABLE))
    {
      f->skip = TRUE;
      g_test_skip ("DR_ROLLER_EMULATOR does not name the roller emulator");
      return;
    }

  f->dbus_daemon = spawn (dbus_argv, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->dbus_daemon));
  f->bus_address = read_line_with_prefix (out, "unix:", 10000);
  g_strstrip (f->bus_address);

  f->bus = g_dbus_connection_new_for_address_sync (
      f->bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);

  start_emulator (f, params);

  f->bluez = dr_bluez_new (f->bus);
  g_signal_connect (f->bluez, "roller-seen", G_CALLBACK (on_roller_seen), f);
  WAIT_UNTIL (dr_bluez_is_available (f->bluez), 5000);
  f->link = dr_bluez_link_new (f->bluez, ROLLER);
  g_assert_nonnull (f->link);
  connect_link (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_cancellable_cancel (f->cancellable);
  if (f->link != NULL)
    g_signal_handlers_disconnect_by_data (f->link, f);
  g_clear_object (&f->link);
  if (f->bluez != NULL)
    g_signal_handlers_disconnect_by_data (f->bluez, f);
  g_clear_object (&f->bluez);
  /* Let cancelled calls and idle completions run while @f still exists. */
  run_for (50);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  stop_process (&f->emulator);
  if (f->bus != NULL)
    {
      g_dbus_connection_close_sync (f->bus, NULL, NULL);
      g_clear_object (&f->bus);
    }
  stop_process (&f->dbus_daemon);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&f->cancellable);
  g_clear_error (&f->error);
  g_free (f->bus_address);
  g_free (f->firmware);
  g_array_unref (f->states);
}

/* ---- scenario helpers ------------------------------------------------------------- */

static void
on_pair_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  dr_bluez_link_pair_finish (f->link, result, &f->error);
  f->done = TRUE;
}

static DrLinkState
last_state (Fixture *f)
{
  return f->states->len ? g_array_index (f->states, StateChange, f->states->len - 1).state
                        : DR_LINK_DISCONNECTED;
}

static guint
count_states (Fixture *f, DrLinkState state)
{
  guint n = 0;

  for (guint i = 0; i < f->states->len; i++)
    if (g_array_index (f->states, StateChange, i).state == state)
      n++;
  return n;
}

/* Index of the first change to @state at or after @from, or -1. */
static int
find_state (Fixture *f, DrLinkState state, guint from)
{
  for (guint i = from; i < f->states->len; i++)
    if (g_array_index (f->states, StateChange, i).state == state)
      return (int) i;
  return -1;
}

static void
connect_and_stream (Fixture *f)
{
  dr_bluez_link_set_auto_connect (f->link, TRUE);
  WAIT_UNTIL (dr_bluez_link_get_state (f->link) == DR_LINK_STREAMING, 10000);
}

static void
wait_frames (Fixture *f, guint more)
{
  guint target = f->live_frames + more;

  WAIT_UNTIL (f->live_frames >= target, 10000);
}

/* ---- tests ------------------------------------------------------------------------- */

static void
test_address_valid (void)
{
  g_assert_true (dr_bluez_address_is_valid ("AA:BB:CC:DD:EE:FF"));
  g_assert_true (dr_bluez_address_is_valid ("00:11:22:33:44:55"));
  g_assert_false (dr_bluez_address_is_valid ("aa:bb:cc:dd:ee:ff"));
  g_assert_false (dr_bluez_address_is_valid ("AA:BB:CC:DD:EE"));
  g_assert_false (dr_bluez_address_is_valid ("AA:BB:CC:DD:EE:FF:00"));
  g_assert_false (dr_bluez_address_is_valid ("AA-BB-CC-DD-EE-FF"));
  g_assert_false (dr_bluez_address_is_valid ("AA:BB:CC:DD:EE:FG"));
  g_assert_false (dr_bluez_address_is_valid ("AABBCCDDEEFF00000"));
  g_assert_false (dr_bluez_address_is_valid (""));
  g_assert_false (dr_bluez_address_is_valid (NULL));
}

/* What the roller's answers mean: the codes callers see when it refuses
 * a request or does not know it. The emulator answers these only to
 * requests the link never sends (a bad opcode, a zero rate), so they are
 * checked on control-point.c itself. */
static void
test_control_point_results (void)
{
  g_autoptr (GError) error = NULL;
  DrControlResponse response;
  DrCodecStatus status;
  const guint8 answer[] = { DR_OP_RESPONSE, DR_OP_START_STREAM, DR_RESULT_INVALID_PARAMETER };
  const guint8 written[] = { DR_OP_START_STREAM, 100 };

  g_assert_cmpint (dr_control_check_result (DR_OP_ACK, DR_RESULT_OK, ROLLER, &error), ==,
                   DR_CONTROL_DONE);
  g_assert_no_error (error);
  g_assert_cmpint (dr_control_check_result (DR_OP_ACK, DR_RESULT_BUSY, ROLLER, &error), ==,
                   DR_CONTROL_RETRY);
  g_assert_no_error (error);

  g_assert_cmpint (
      dr_control_check_result (DR_OP_STOP_STREAM, DR_RESULT_UNSUPPORTED, ROLLER, &error), ==,
      DR_CONTROL_FAILED);
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_assert_cmpint (
      dr_control_check_result (DR_OP_START_STREAM, DR_RESULT_INVALID_PARAMETER, ROLLER, &error), ==,
      DR_CONTROL_FAILED);
  g_assert_error (error, DR_ERROR, DR_ERROR_REFUSED);
  g_clear_error (&error);

  g_assert_true (dr_control_parse_answer (answer, sizeof answer, &response, &status));
  g_assert_cmpint (status, ==, DR_CODEC_OK);
  g_assert_cmpuint (response.request_opcode, ==, DR_OP_START_STREAM);
  g_assert_cmpuint (response.result, ==, DR_RESULT_INVALID_PARAMETER);
  /* What was written, echoed in the cached Value, is no answer. */
  g_assert_false (dr_control_parse_answer (written, sizeof written, &response, &status));
}

/* Unpaired and unknown: discovery finds it, Pair, Trusted, Connect, setup,
 * frames over the AcquireNotify socket. */
static void
test_pair_and_stream (Fixture *f, gconstpointer data)
{
  if (f->skip)
    return;

  g_assert_null (dr_bluez_find_device (f->bluez, ROLLER));
  dr_bluez_link_pair (f->link, NULL, on_pair_done, f);
  WAIT_UNTIL (f->done, 20000);
  g_assert_no_error (f->error);
  g_assert_cmpint (dr_bluez_link_get_state (f->link), ==, DR_LINK_STREAMING);
  g_assert_true (dr_bluez_link_get_notify_acquired (f->link));
  g_assert_cmpuint (f->rollers_seen, >, 0);

  /* Setup read everything before streaming. */
  g_assert_true (f->head_info_seen);
  g_assert_cmpuint (f->head.needle_length_um, ==, 500);
  g_assert_cmpuint (f->head.needle_count, ==, 192);
  g_assert_true (f->status_seen);
  g_assert_cmpint (f->battery, ==, 87);
  g_assert_nonnull (f->firmware);
  g_assert_cmpuint (f->bad_values, ==, 0);

  {
    g_autoptr (GDBusObject) device = dr_bluez_find_device (f->bluez, ROLLER);
    g_autoptr (GDBusInterface) iface = NULL;
    g_autoptr (GVariant) paired = NULL;
    g_autoptr (GVariant) trusted = NULL;
    g_assert_nonnull (device);
    iface = g_dbus_object_get_interface (device, "org.bluez.Device1");
    paired = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (iface), "Paired");
    trusted = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (iface), "Trusted");
    g_assert_true (g_variant_get_boolean (paired));
    g_assert_true (g_variant_get_boolean (trusted));
  }

  wait_frames (f, 20);
  g_assert_cmpuint (f->decode_errors, ==, 0);
  g_assert_cmpuint (f->history_frames, ==, 0);

  /* Pairing again once paired and streaming is a success at once. */
  f->done = FALSE;
  dr_bluez_link_pair (f->link, NULL, on_pair_done, f);
  WAIT_UNTIL (f->done, 2000);
  g_assert_no_error (f->error);
}

/* The roller cancels the pairing (the link drops while Pair is under way:
 * AuthenticationCanceled): the pair fails as Refused, not Failed. */
static void
test_pair_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GDBusObject) device = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  if (f->skip)
    return;

  dr_bluez_link_pair (f->link, NULL, on_pair_done, f);
  /* The Pair goes out from the same dispatch that makes both true, and
   * before the Disconnect below on the same connection. */
  WAIT_UNTIL ((device = dr_bluez_find_device (f->bluez, ROLLER)) != NULL
                  && !dr_bluez_agent_pending (f->bluez),
              10000);
  g_assert_false (f->done);
  reply = g_dbus_connection_call_sync (f->bus, "org.bluez", g_dbus_object_get_object_path (device),
                                       "org.bluez.Device1", "Disconnect", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (f->done, 10000);
  g_assert_error (f->error, DR_ERROR, DR_ERROR_REFUSED);
  g_assert_cmpint (dr_bluez_link_get_state (f->link), ==, DR_LINK_DISCONNECTED);
}

/* Pairing that takes longer than the link's pair-timeout fails as
 * TimedOut, not Failed. */
static void
test_pair_timeout (Fixture *f, gconstpointer data)
{
  if (f->skip)
    return;

  g_signal_handlers_disconnect_by_data (f->link, f);
  g_clear_object (&f->link);
  f->link = g_object_new (DR_TYPE_BLUEZ_LINK, "bluez", f->bluez, "address", ROLLER, "pair-timeout",
                          1u, NULL);
  connect_link (f);

  dr_bluez_link_pair (f->link, NULL, on_pair_done, f);
  WAIT_UNTIL (f->done, 10000);
  g_assert_error (f->error, DR_ERROR, DR_ERROR_TIMED_OUT);
  g_assert_cmpint (dr_bluez_link_get_state (f->link), ==, DR_LINK_DISCONNECTED);
}

static void
test_start_notify_fallback (Fixture *f, gconstpointer data)
{
  if (f->skip)
    return;

  connect_and_stream (f);
  g_assert_false (dr_bluez_link_get_notify_acquired (f->link));
  wait_frames (f, 20);
  g_assert_cmpuint (f->decode_errors, ==, 0);
}

/* The link drops: the socket hangs up, Connected goes false; the link
 * reconnects after about a second (1 s ± 20 %) and acquires a new socket. */
static void
test_drop_link_reconnects (Fixture *f, gconstpointer data)
{
  guint mark;
  int down, up;
  gint64 gap_us;

  if (f->skip)
    return;

  connect_and_stream (f);
  g_assert_true (dr_bluez_link_get_notify_acquired (f->link));
  wait_frames (f, 5);

  mark = f->states->len;
  emu_do (f, "DropLink", g_variant_new ("(s)", ROLLER));
  WAIT_UNTIL (find_state (f, DR_LINK_DISCONNECTED, mark) >= 0, 5000);
  g_assert_false (dr_bluez_link_get_notify_acquired (f->link));
  WAIT_UNTIL (find_state (f, DR_LINK_STREAMING, mark) >= 0, 10000);

  down = find_state (f, DR_LINK_DISCONNECTED, mark);
  up = find_state (f, DR_LINK_CONNECTING, (guint) down);
  g_assert_cmpint (up, >, down);
  gap_us = g_array_index (f->states, StateChange, up).time_us
           - g_array_index (f->states, StateChange, down).time_us;
  g_test_message ("reconnect attempt %" G_GINT64_FORMAT " ms after the loss", gap_us / 1000);
  g_assert_cmpint (gap_us, >=, 790 * 1000);
  /* Not the doubled backoff either (slack for a loaded machine). */
  g_assert_cmpint (gap_us, <=, 1580 * 1000);

  /* The socket was closed with the link: a new one. */
  g_assert_true (dr_bluez_link_get_notify_acquired (f->link));
  wait_frames (f, 10);
  g_assert_cmpuint (f->decode_errors, ==, 0);
}

/* Connect keeps failing (le-connection-abort-by-local): the first attempt
 * comes 1 s after the loss, the retries 2 s and 4 s (± 20 %) after each
 * failure, one at a time, and the link comes back. */
static void
test_connect_failures_back_off (Fixture *f, gconstpointer data)
{
  guint mark;
  int first, second, third;
  gint64 d1, d2;

  if (f->skip)
    return;

  connect_and_stream (f);
  emu_do (f, "FailConnect",
          g_variant_new ("(suss)", ROLLER, 2, "org.bluez.Error.Failed",
                         "le-connection-abort-by-local"));
  mark = f->states->len;
  emu_do (f, "DropLink", g_variant_new ("(s)", ROLLER));
  WAIT_UNTIL (find_state (f, DR_LINK_STREAMING, mark) >= 0, 15000);

  first = find_state (f, DR_LINK_CONNECTING, mark);
  second = find_state (f, DR_LINK_CONNECTING, (guint) first + 1);
  third = find_state (f, DR_LINK_CONNECTING, (guint) second + 1);
  g_assert_cmpint (first, >=, 0);
  g_assert_cmpint (second, >, first);
  g_assert_cmpint (third, >, second);
  d1 = g_array_index (f->states, StateChange, second).time_us
       - g_array_index (f->states, StateChange, first).time_us;
  d2 = g_array_index (f->states, StateChange, third).time_us
       - g_array_index (f->states, StateChange, second).time_us;
  g_test_message ("retries after %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " ms", d1 / 1000,
                  d2 / 1000);
  /* Each gap is the backoff plus the failed attempt's own few ms. */
  g_assert_cmpint (d1, >=, 1590 * 1000);
  g_assert_cmpint (d2, >=, 3190 * 1000);
  g_assert_cmpint (d2, >, d1);
  wait_frames (f, 5);
}

/* ServicesResolved false → true with the GATT objects removed and added
 * again: the map is rebuilt from the object manager, frames continue. */
static void
test_flap_services (Fixture *f, gconstpointer data)
{
  gboolean acquired;
  guint mark;

  if (f->skip)
    return;

  connect_and_stream (f);
  acquired = dr_bluez_link_get_notify_acquired (f->link);
  wait_frames (f, 5);
  mark = f->states->len;
  emu_do (f, "FlapServices", g_variant_new ("(s)", ROLLER));
  WAIT_UNTIL (f->states->len > mark, 5000);
  WAIT_UNTIL (dr_bluez_link_get_state (f->link) == DR_LINK_STREAMING, 10000);
  g_assert_cmpint (dr_bluez_link_get_notify_acquired (f->link), ==, acquired);
  wait_frames (f, 10);
  g_assert_cmpuint (f->decode_errors, ==, 0);

  /* And again: nothing stale from the first round. */
  mark = f->states->len;
  emu_do (f, "FlapServices", g_variant_new ("(s)", ROLLER));
  WAIT_UNTIL (f->states->len > mark, 5000);
  WAIT_UNTIL (dr_bluez_link_get_state (f->link) == DR_LINK_STREAMING, 10000);
  wait_frames (f, 10);
  g_assert_cmpuint (f->decode_errors, ==, 0);
}

/* bluetoothd goes away and comes back (a new unique name, every object
 * gone and added again): the link notices, waits, reconnects. */
static void
test_bluetoothd_restart (Fixture *f, gconstpointer data)
{
  guint mark;

  if (f->skip)
    return;

  connect_and_stream (f);
  wait_frames (f, 5);
  mark = f->states->len;
  emu_do (f, "Restart", g_variant_new ("(u)", 500));
  WAIT_UNTIL (find_state (f, DR_LINK_DISCONNECTED, mark) >= 0, 5000);
  WAIT_UNTIL (!dr_bluez_is_available (f->bluez) || find_state (f, DR_LINK_STREAMING, mark) >= 0,
              5000);
  WAIT_UNTIL (find_state (f, DR_LINK_STREAMING, mark) >= 0, 15000);
  g_assert_true (dr_bluez_is_available (f->bluez));
  g_assert_true (dr_bluez_link_get_notify_acquired (f->link));
  wait_frames (f, 10);
}

/* Frames the roller kept (unacknowledged) come first, flagged history,
 * before START_STREAM lets the live ones through. */
static void
test_history_before_stream (Fixture *f, gconstpointer data)
{
  if (f->skip)
    return;

  connect_and_stream (f);
  /* Streaming is declared after REQUEST_HISTORY's answer: all there. */
  g_assert_true (f->status_seen);
  g_assert_cmpuint (f->history_frames, ==, 50);
  g_assert_cmpint (roller_stat (f, "history-sent"), ==, 50);
  wait_frames (f, 10);
  g_assert_false (f->live_before_history);
  g_assert_cmpuint (f->decode_errors, ==, 0);
}

/* ACK reaches the roller; ACKs queued behind a busy queue coalesce. */
static void
test_ack (Fixture *f, gconstpointer data)
{
  guint16 seq;

  if (f->skip)
    return;

  /* Not streaming: ignored, no crash, nothing sent. */
  dr_bluez_link_ack (f->link, 1);

  connect_and_stream (f);
  wait_frames (f, 10);
  seq = f->last_live_seq;
  dr_bluez_link_ack (f->link, (guint16) (seq - 2));
  dr_bluez_link_ack (f->link, (guint16) (seq - 1));
  dr_bluez_link_ack (f->link, seq);
  WAIT_UNTIL (roller_stat (f, "acked-seq") == seq, 5000);
  /* The first went out at once; the two behind it became one. */
  g_assert_cmpint (roller_stat (f, "acks"), <=, 2);
}

static void
on_sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  dr_bluez_link_sync_history_finish (f->link, result, &f->error);
  f->done = TRUE;
}

static void
test_sync_history_and_malformed (Fixture *f, gconstpointer data)
{
  static const guint8 junk[] = { 0x02, 0x00, 0x01, 0x00 };
  guint errors;

  if (f->skip)
    return;

  /* Not connected: a clear error. */
  dr_bluez_link_sync_history (f->link, NULL, on_sync_done, f);
  WAIT_UNTIL (f->done, 2000);
  g_assert_error (f->error, DR_ERROR, DR_ERROR_NOT_CONNECTED);
  g_clear_error (&f->error);
  f->done = FALSE;

  connect_and_stream (f);
  wait_frames (f, 5);
  dr_bluez_link_sync_history (f->link, NULL, on_sync_done, f);
  WAIT_UNTIL (f->done, 12000);
  g_assert_no_error (f->error);

  /* A malformed notification reaches the frame callback as it is, and
   * the link keeps streaming. */
  errors = f->decode_errors;
  emu_do (f, "SendMalformed",
          g_variant_new ("(s@ay)", ROLLER,
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, junk, sizeof junk, 1)));
  WAIT_UNTIL (f->decode_errors > errors, 5000);
  wait_frames (f, 5);
  g_assert_cmpint (dr_bluez_link_get_state (f->link), ==, DR_LINK_STREAMING);
}

/* logind's PrepareForSleep(false): the link is taken down and comes back. */
static void
test_resume (Fixture *f, gconstpointer data)
{
  g_autoptr (GDBusConnection) logind = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint mark;

  if (f->skip)
    return;

  logind = g_dbus_connection_new_for_address_sync (
      f->bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (
      logind, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", "org.freedesktop.login1", 0), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);

  connect_and_stream (f);
  wait_frames (f, 5);
  mark = f->states->len;
  g_dbus_connection_emit_signal (logind, NULL, "/org/freedesktop/login1",
                                 "org.freedesktop.login1.Manager", "PrepareForSleep",
                                 g_variant_new ("(b)", TRUE), &error);
  g_assert_no_error (error);
  g_dbus_connection_emit_signal (logind, NULL, "/org/freedesktop/login1",
                                 "org.freedesktop.login1.Manager", "PrepareForSleep",
                                 g_variant_new ("(b)", FALSE), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (logind, NULL, NULL);
  WAIT_UNTIL (find_state (f, DR_LINK_DISCONNECTED, mark) >= 0, 5000);
  WAIT_UNTIL (find_state (f, DR_LINK_STREAMING, mark) >= 0, 10000);
  wait_frames (f, 5);
}

/* The adapter goes away and another one (hci5) brings the roller back:
 * the link finds it by address, not by the old path. */
static void
test_adapter_renumbered (Fixture *f, gconstpointer data)
{
  guint mark;

  if (f->skip)
    return;

  connect_and_stream (f);
  wait_frames (f, 5);
  mark = f->states->len;
  emu_do (f, "RemoveAdapter", NULL);
  WAIT_UNTIL (find_state (f, DR_LINK_DISCONNECTED, mark) >= 0, 5000);
  WAIT_UNTIL (!dr_bluez_is_available (f->bluez), 5000);
  emu_do (f, "AddAdapter", g_variant_new ("(u)", 5));
  WAIT_UNTIL (find_state (f, DR_LINK_STREAMING, mark) >= 0, 15000);
  {
    g_autoptr (GDBusObject) device = dr_bluez_find_device (f->bluez, ROLLER);
    g_assert_nonnull (device);
    g_assert_true (g_str_has_prefix (g_dbus_object_get_object_path (device), "/org/bluez/hci5/"));
  }
  wait_frames (f, 5);
}

/* Forget: the bond goes (RemoveDevice), no reconnection follows. */
static void
on_forget_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  dr_bluez_link_forget_finish (f->link, result, &f->error);
  f->done = TRUE;
}

static void
test_forget (Fixture *f, gconstpointer data)
{
  guint streaming;

  if (f->skip)
    return;

  connect_and_stream (f);
  dr_bluez_link_forget (f->link, NULL, on_forget_done, f);
  WAIT_UNTIL (f->done, 5000);
  g_assert_no_error (f->error);
  g_assert_cmpint (dr_bluez_link_get_state (f->link), ==, DR_LINK_DISCONNECTED);
  streaming = count_states (f, DR_LINK_STREAMING);
  run_for (2500);
  g_assert_cmpuint (count_states (f, DR_LINK_STREAMING), ==, streaming);
  g_assert_cmpint (last_state (f), ==, DR_LINK_DISCONNECTED);
  {
    g_autoptr (GDBusObject) device = dr_bluez_find_device (f->bluez, ROLLER);
    g_assert_null (device);
  }
}

/* Another client keeps the device busy: BlueZ answers our operations
 * InProgress now and then; they are retried, never surfaced. */
typedef struct
{
  Fixture *f;
  GCancellable *cancellable;
  guint in_progress;
  guint reads;
  guint timer;
} Hammer;

static gboolean hammer_tick (gpointer data);

static void
on_hammer_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Hammer *h = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  remote = error ? g_dbus_error_get_remote_error (error) : NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (g_strcmp0 (remote, "org.bluez.Error.InProgress") == 0)
    h->in_progress++;
  else if (error == NULL)
    h->reads++;
  /* Leave the device free part of the time, as a polite neighbour would. */
  h->timer = g_timeout_add (30, hammer_tick, h);
}

static gboolean
hammer_tick (gpointer data)
{
  Hammer *h = data;
  g_autoptr (GDBusObject) device = dr_bluez_find_device (h->f->bluez, ROLLER);
  GList *chars
      = device ? dr_bluez_get_characteristics (h->f->bluez, g_dbus_object_get_object_path (device))
               : NULL;
  const char *path = NULL;

  h->timer = 0;
  for (GList *l = chars; l != NULL; l = l->next)
    {
      g_autoptr (GVariant) uuid = g_dbus_proxy_get_cached_property (l->data, "UUID");
      if (uuid && g_str_equal (g_variant_get_string (uuid, NULL), DR_UUID_BATTERY_LEVEL))
        path = g_dbus_proxy_get_object_path (l->data);
    }
  if (path == NULL)
    h->timer = g_timeout_add (5, hammer_tick, h);
  else
    g_dbus_connection_call (h->f->bus, "org.bluez", path, "org.bluez.GattCharacteristic1",
                            "ReadValue", g_variant_new_parsed ("(@a{sv} {},)"), NULL,
                            G_DBUS_CALL_FLAGS_NONE, -1, h->cancellable, on_hammer_read, h);
  g_list_free (chars);
  return G_SOURCE_REMOVE;
}

static void
test_gatt_contention (Fixture *f, gconstpointer data)
{
  Hammer h = { f, g_cancellable_new (), 0, 0, 0 };

  if (f->skip)
    return;

  h.timer = g_timeout_add (5, hammer_tick, &h);
  connect_and_stream (f);
  wait_frames (f, 10);
  /* Reconnect under contention too: the whole setup runs again. */
  {
    emu_do (f, "DropLink", g_variant_new ("(s)", ROLLER));
    guint mark = f->states->len;
    WAIT_UNTIL (find_state (f, DR_LINK_STREAMING, mark) >= 0, 15000);
  }
  wait_frames (f, 10);
  /* Whether the neighbour and the link collided above is up to the
   * scheduler; make one collision certain: hold the device's operations
   * until one is under way, read again, and BlueZ answers InProgress.
   * Released, the link goes on as if nothing happened. */
  {
    guint before = h.in_progress;

    emu_do (f, "HoldOperations", g_variant_new ("(sb)", ROLLER, TRUE));
    WAIT_UNTIL (roller_stat (f, "gatt-op-pending") != 0, 15000);
    g_clear_handle_id (&h.timer, g_source_remove);
    hammer_tick (&h);
    WAIT_UNTIL (h.in_progress > before, 15000);
    emu_do (f, "HoldOperations", g_variant_new ("(sb)", ROLLER, FALSE));
  }
  wait_frames (f, 10);
  g_cancellable_cancel (h.cancellable);
  g_clear_handle_id (&h.timer, g_source_remove);
  run_for (100);
  g_test_message ("neighbour: %u reads, %u InProgress", h.reads, h.in_progress);
  g_assert_cmpuint (h.reads, >, 0);
  g_assert_cmpuint (h.in_progress, >, 0);
  g_assert_cmpuint (f->decode_errors, ==, 0);
  g_assert_cmpuint (f->bad_values, ==, 0);
  g_object_unref (h.cancellable);
}

/* Several rollers at once, one link each. */
typedef struct
{
  guint frames;
  DrLinkState state;
} Second;

static void
second_state (DrBluezLink *link, DrLinkState state, gpointer user_data)
{
  ((Second *) user_data)->state = state;
}

static void
second_frame (DrBluezLink *link, const guint8 *data, guint len, gpointer user_data)
{
  DrFrame frame;

  if (dr_frame_decode (data, len, &frame) == DR_CODEC_OK)
    ((Second *) user_data)->frames++;
}

static void
test_two_rollers (Fixture *f, gconstpointer data)
{
  Second second = { 0, DR_LINK_DISCONNECTED };
  DrBluezLink *link2;

  if (f->skip)
    return;

  link2 = dr_bluez_link_new (f->bluez, "C0:FF:EE:00:00:02");
  g_signal_connect (link2, "state-changed", G_CALLBACK (second_state), &second);
  g_signal_connect (link2, "frame", G_CALLBACK (second_frame), &second);
  dr_bluez_link_set_auto_connect (link2, TRUE);
  connect_and_stream (f);
  WAIT_UNTIL (second.state == DR_LINK_STREAMING, 10000);
  wait_frames (f, 10);
  WAIT_UNTIL (second.frames >= 10, 5000);

  /* One link going down leaves the other alone. */
  {
    emu_do (f, "DropLink", g_variant_new ("(s)", "C0:FF:EE:00:00:02"));
    guint before = f->live_frames;
    WAIT_UNTIL (second.state == DR_LINK_DISCONNECTED, 5000);
    g_assert_cmpint (dr_bluez_link_get_state (f->link), ==, DR_LINK_STREAMING);
    WAIT_UNTIL (second.state == DR_LINK_STREAMING, 10000);
    g_assert_cmpuint (f->live_frames, >, before);
  }
  g_signal_handlers_disconnect_by_data (link2, &second);
  g_object_unref (link2);
}

static void
on_start_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  dr_bluez_start_discovery_finish (f->bluez, result, &f->error);
  f->done = TRUE;
}

static void
on_stop_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  dr_bluez_stop_discovery_finish (f->bluez, result, &f->error);
  f->done = TRUE;
}

static void
test_discovery (Fixture *f, gconstpointer data)
{
  if (f->skip)
    return;

  g_assert_false (dr_bluez_is_discovering (f->bluez));
  dr_bluez_start_discovery (f->bluez, NULL, on_start_discovery_done, f);
  WAIT_UNTIL (f->done, 5000);
  g_assert_no_error (f->error);
  g_assert_true (dr_bluez_is_discovering (f->bluez));
  WAIT_UNTIL (f->rollers_seen > 0, 5000);
  g_assert_nonnull (dr_bluez_find_device (f->bluez, ROLLER));
  g_object_unref (dr_bluez_find_device (f->bluez, ROLLER));

  f->done = FALSE;
  dr_bluez_stop_discovery (f->bluez, NULL, on_stop_discovery_done, f);
  WAIT_UNTIL (f->done, 5000);
  g_assert_no_error (f->error);
  g_assert_false (dr_bluez_is_discovering (f->bluez));
}

/* The agent is there for bluetoothd only. */
static void
on_agent_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &f->error);
  f->done = TRUE;
}

static void
test_agent_rejects_strangers (Fixture *f, gconstpointer data)
{
  g_autoptr (GDBusConnection) stranger = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *remote = NULL;

  if (f->skip)
    return;

  stranger = g_dbus_connection_new_for_address_sync (
      f->bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  /* Asynchronously: our own main loop answers it. */
  g_dbus_connection_call (stranger, g_dbus_connection_get_unique_name (f->bus),
                          "/org/dermaroll/agent", "org.bluez.Agent1", "RequestConfirmation",
                          g_variant_new ("(ou)", "/org/bluez/hci3/dev_C0_FF_EE_00_00_01", 123456),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, on_agent_reply, f);
  WAIT_UNTIL (f->done, 6000);
  g_assert_nonnull (f->error);
  remote = g_dbus_error_get_remote_error (f->error);
  g_assert_cmpstr (remote, ==, "org.bluez.Error.Rejected");
}

int
main (int argc, char **argv)
{
  static const char *const paired[] = { "--paired", "--rate", "200", NULL };
  static const char *const unpaired[] = { "--rate", "200", NULL };
  static const char *const no_acquire[]
      = { "--paired", "--rate", "200", "--no-acquire-notify", NULL };
  static const char *const history[] = { "--paired", "--rate", "200", "--history", "50", NULL };
  static const Params p_paired = { paired };
  static const Params p_unpaired = { unpaired };
  static const char *const slow_pair[] = { "--rate", "200", "--pair-delay-ms", "5000", NULL };
  static const Params p_slow_pair = { slow_pair };
  static const Params p_no_acquire = { no_acquire };
  static const char *const two[]
      = { "--paired", "--rate", "200", "--roller", "C0:FF:EE:00:00:02,Second", NULL };
  static const char *const contention[]
      = { "--paired", "--rate", "200", "--gatt-latency-ms", "20", NULL };
  static const Params p_history = { history };
  static const Params p_two = { two };
  static const Params p_contention = { contention };

  g_test_init (&argc, &argv, NULL);
  /* TAP owns stdout. */
  g_log_writer_default_set_use_stderr (TRUE);

  g_test_add_func ("/bluez/address-valid", test_address_valid);
  g_test_add_func ("/bluez/control-point-results", test_control_point_results);
#define ADD(path, params, fn)                                                                      \
  g_test_add (path, Fixture, params, fixture_setup, fn, fixture_teardown)
  ADD ("/bluez-link/pair-and-stream", &p_unpaired, test_pair_and_stream);
  ADD ("/bluez-link/pair-refused", &p_slow_pair, test_pair_refused);
  ADD ("/bluez-link/pair-timeout", &p_slow_pair, test_pair_timeout);
  ADD ("/bluez-link/start-notify-fallback", &p_no_acquire, test_start_notify_fallback);
  ADD ("/bluez-link/drop-link-reconnects", &p_paired, test_drop_link_reconnects);
  ADD ("/bluez-link/connect-failures-back-off", &p_paired, test_connect_failures_back_off);
  ADD ("/bluez-link/flap-services", &p_paired, test_flap_services);
  ADD ("/bluez-link/flap-services-start-notify", &p_no_acquire, test_flap_services);
  ADD ("/bluez-link/bluetoothd-restart", &p_paired, test_bluetoothd_restart);
  ADD ("/bluez-link/history-before-stream", &p_history, test_history_before_stream);
  ADD ("/bluez-link/ack", &p_paired, test_ack);
  ADD ("/bluez-link/sync-history-and-malformed", &p_paired, test_sync_history_and_malformed);
  ADD ("/bluez-link/resume", &p_paired, test_resume);
  ADD ("/bluez-link/adapter-renumbered", &p_paired, test_adapter_renumbered);
  ADD ("/bluez-link/forget", &p_paired, test_forget);
  ADD ("/bluez-link/gatt-contention", &p_contention, test_gatt_contention);
  ADD ("/bluez-link/two-rollers", &p_two, test_two_rollers);
  ADD ("/bluez/discovery", &p_unpaired, test_discovery);
  ADD ("/bluez/agent-rejects-strangers", &p_paired, test_agent_rejects_strangers);
#undef ADD
  return g_test_run ();
}

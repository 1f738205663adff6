/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-firmware.c: the roller's firmware model behind roller-firmware.h.
 *
 * Frames are produced on a virtual sample timeline (START_STREAM's rate,
 * or the pattern's nominal one) and, unless --rate says otherwise, at that
 * pace in wall-clock time; each is numbered, stored and handed to the
 * "frame" signal. */
#include <string.h>

#include "options.h"
#include "patterns.h"
#include "roller-firmware.h"

/* Catch-up limit per stream tick (after a stall such as a stopped process). */
#define TICK_MAX_FRAMES 4096
/* The pattern's nominal timeline when nothing asked for a rate (history
 * generated at start-up). */
#define DEFAULT_TIMELINE_HZ 100

struct _RollerFirmware
{
  GObject parent_instance;

  char *address; /* for the log */
  DrHeadInfo head;
  guint8 battery;
  guint8 protocol_version; /* of the frames it makes */
  gint64 boot_mono_us;
  gboolean clock_synced;
  gint64 clock_set_unix_ms;
  gint64 clock_set_mono_us;
  gboolean streaming;
  gboolean exhausted;
  gboolean replaying; /* a REQUEST_HISTORY replay is still going out */
  guint stream_rate;  /* START_STREAM's rate: the sample timeline */
  guint wall_rate;    /* samples per second produced; 0 = as fast as taken */
  guint stream_timer;
  gint64 origin_mono_us;
  gint64 origin_offset_us;
  gint64 wall_origin_us;
  guint64 wall_emitted;
  SampleGen gen;
  GQueue memory; /* GBytes: stored frames, oldest first */
  guint16 next_seq;
  guint lose_count;
  RollerFirmwareCounters counters;
};

enum
{
  SIGNAL_FRAME,
  SIGNAL_HISTORY_END,
  SIGNAL_INDICATION,
  SIGNAL_STATUS_CHANGED,
  SIGNAL_STREAM_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (RollerFirmware, roller_firmware, G_TYPE_OBJECT)

static void
roller_firmware_finalize (GObject *object)
{
  RollerFirmware *self = ROLLER_FIRMWARE (object);

  g_clear_handle_id (&self->stream_timer, g_source_remove);
  g_queue_clear_full (&self->memory, (GDestroyNotify) g_bytes_unref);
  g_free (self->address);
  G_OBJECT_CLASS (roller_firmware_parent_class)->finalize (object);
}

static void
roller_firmware_class_init (RollerFirmwareClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = roller_firmware_finalize;
  signals[SIGNAL_FRAME]
      = g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_BOOLEAN);
  signals[SIGNAL_HISTORY_END]
      = g_signal_new ("history-end", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_INDICATION]
      = g_signal_new ("indication", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_UCHAR, G_TYPE_UCHAR);
  signals[SIGNAL_STATUS_CHANGED]
      = g_signal_new ("status-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_STREAM_CHANGED]
      = g_signal_new ("stream-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
}

static void
roller_firmware_init (RollerFirmware *self)
{
  g_queue_init (&self->memory);
  self->counters.acked_seq = -1;
}

gboolean
roller_firmware_is_rolling (RollerFirmware *self)
{
  return self->streaming && !self->exhausted;
}

void
roller_firmware_encode_status (RollerFirmware *self, guint8 buf[DR_STATUS_LEN])
{
  DrStatus st = {
    .version = DR_PROTOCOL_VERSION,
    .state = roller_firmware_is_rolling (self) ? DR_ROLLER_STATE_ROLLING : DR_ROLLER_STATE_IDLE,
    .history_frames_pending = (guint16) MIN (g_queue_get_length (&self->memory), G_MAXUINT16),
    .flags = 0,
  };
  size_t len;

  if (dr_status_encode (&st, buf, DR_STATUS_LEN, &len) != DR_CODEC_OK)
    g_error ("status does not encode");
}

GBytes *
roller_firmware_encode_head_info (RollerFirmware *self)
{
  guint8 buf[DR_HEAD_INFO_LEN];
  size_t len;

  if (dr_head_info_encode (&self->head, buf, sizeof buf, &len) != DR_CODEC_OK)
    g_error ("head info does not encode");
  return g_bytes_new (buf, len);
}

/* The roller's clock: Unix ms once SET_TIME set it, else ms since boot. */
static gint64
clock_ms (RollerFirmware *self, gint64 mono_us)
{
  if (self->clock_synced)
    return self->clock_set_unix_ms + (mono_us - self->clock_set_mono_us) / 1000;
  return MAX (mono_us - self->boot_mono_us, 0) / 1000;
}

/* The most samples a frame of the roller's protocol version holds. */
static guint
frame_max_samples (RollerFirmware *self)
{
  return self->protocol_version == DR_PROTOCOL_VERSION_2 ? DR_FRAME_V2_MAX_SAMPLES
                                                         : DR_FRAME_MAX_SAMPLES;
}

/* Builds, numbers, stores and hands on one frame of up to @max_n samples.
 * Returns the number of samples, 0 when the source is exhausted. */
static guint
produce_frame (RollerFirmware *self, guint max_n, gboolean live)
{
  DrFrame f = { .version = self->protocol_version };
  guint8 buf[DR_FRAME_MAX_LEN];
  gint64 prev_ms = 0;
  guint timeline_hz = self->stream_rate > 0 ? self->stream_rate : DEFAULT_TIMELINE_HZ;
  GBytes *frame;
  size_t len;
  guint n;

  max_n = MIN (max_n, frame_max_samples (self));
  for (n = 0; n < max_n; n++)
    {
      DrSample *s = &f.samples[n];
      gint64 offset_us, t_ms;

      if (!sample_gen_next (&self->gen, timeline_hz, live, s, &offset_us))
        break;
      t_ms = clock_ms (self, self->origin_mono_us + (offset_us - self->origin_offset_us));
      if (n == 0)
        f.t0_ms = (guint64) t_ms;
      else
        s->dt_ms = (guint16) CLAMP (t_ms - prev_ms, 0, G_MAXUINT16);
      prev_ms = t_ms;
    }
  if (n == 0)
    return 0;
  f.n_samples = (guint8) n;
  f.flags = self->clock_synced ? 0 : DR_FRAME_FLAG_CLOCK_UNSYNCED;
  f.seq = self->next_seq++;
  self->counters.samples_produced += n;
  if (self->lose_count > 0)
    {
      /* Lost in the roller: numbered, never stored, never sent. */
      self->lose_count--;
      self->counters.frames_lost++;
      return n;
    }
  if (dr_frame_encode (&f, buf, sizeof buf, &len) != DR_CODEC_OK)
    g_error ("frame does not encode");
  frame = g_bytes_new (buf, len);
  g_queue_push_tail (&self->memory, frame);
  self->counters.frames_produced++;
  g_signal_emit (self, signals[SIGNAL_FRAME], 0, frame, FALSE);
  return n;
}

static guint
samples_per_frame (guint wall_rate)
{
  /* About 20 notifications a second at most (50 ms of latency), full
   * frames above 500 Hz; as full as possible when going flat out. */
  if (wall_rate == 0)
    return DR_FRAME_MAX_SAMPLES;
  return CLAMP (wall_rate / 20, 1, DR_FRAME_MAX_SAMPLES);
}

static void
set_exhausted (RollerFirmware *self)
{
  if (self->exhausted)
    return;
  self->exhausted = TRUE;
  if (opt.verbose)
    g_message ("%s: no more samples, idle", self->address);
}

gboolean
roller_firmware_produce_frame (RollerFirmware *self)
{
  if (produce_frame (self, frame_max_samples (self), TRUE) < frame_max_samples (self))
    {
      set_exhausted (self);
      return FALSE;
    }
  return TRUE;
}

static gboolean
stream_tick_cb (gpointer data)
{
  RollerFirmware *self = data;
  gint64 now = g_get_monotonic_time ();
  guint spf = MIN (samples_per_frame (self->wall_rate), frame_max_samples (self));
  guint64 due
      = (guint64) ((double) (now - self->wall_origin_us) * self->wall_rate / G_USEC_PER_SEC);

  for (guint frames = 0; due >= self->wall_emitted + spf && frames < TICK_MAX_FRAMES; frames++)
    {
      guint n = produce_frame (self, spf, TRUE);

      self->wall_emitted += n;
      if (n < spf)
        {
          set_exhausted (self);
          break;
        }
    }
  g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);
  if (!roller_firmware_is_rolling (self))
    {
      self->stream_timer = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Runs the producer while the roller streams at a wall-clock rate; at
 * --rate 0 the reader's pace drives roller_firmware_produce_frame(). */
static void
stream_changed (RollerFirmware *self)
{
  if (roller_firmware_is_rolling (self) && self->wall_rate > 0)
    {
      if (self->stream_timer == 0)
        {
          guint spf = samples_per_frame (self->wall_rate);
          guint interval_ms = MAX (1u, (guint) (1000ull * spf / self->wall_rate));

          self->stream_timer = g_timeout_add (interval_ms, stream_tick_cb, self);
        }
    }
  else
    g_clear_handle_id (&self->stream_timer, g_source_remove);
  g_signal_emit (self, signals[SIGNAL_STREAM_CHANGED], 0);
}

static void
start_stream (RollerFirmware *self, guint rate_hz)
{
  gint64 now = g_get_monotonic_time ();

  self->streaming = TRUE;
  self->stream_rate = rate_hz;
  self->wall_rate = opt.rate >= 0 ? (guint) opt.rate : rate_hz;
  self->origin_mono_us = now;
  self->origin_offset_us = sample_gen_peek_offset (&self->gen);
  self->wall_origin_us = now;
  self->wall_emitted = 0;
  g_clear_handle_id (&self->stream_timer, g_source_remove);
  if (opt.verbose)
    g_message ("%s: streaming at %u Hz (produced at %u/s)", self->address, rate_hz,
               self->wall_rate);
  stream_changed (self);
}

static void
stop_stream (RollerFirmware *self)
{
  self->streaming = FALSE;
  stream_changed (self);
}

void
roller_firmware_link_up (RollerFirmware *self)
{
  /* PROTOCOL.md: a stream does not survive a link loss. A new link starts
   * idle, so nothing live can overtake the history replay the central asks
   * for before its START_STREAM. */
  if (self->streaming)
    stop_stream (self);
}

/* Frames already in the roller's memory at start, as after a session
 * without the computer: their clock was set then, an hour ago. */
static void
fill_history (RollerFirmware *self, guint frames)
{
  gint64 now = g_get_monotonic_time ();
  gint64 span_ms = (gint64) frames * DR_FRAME_MAX_SAMPLES * 1000 / DEFAULT_TIMELINE_HZ;

  self->clock_synced = TRUE;
  self->clock_set_unix_ms = g_get_real_time () / 1000 - span_ms - 3600 * 1000;
  self->clock_set_mono_us = now;
  self->origin_mono_us = now;
  self->origin_offset_us = sample_gen_peek_offset (&self->gen);
  for (guint i = 0; i < frames; i++)
    if (produce_frame (self, DR_FRAME_MAX_SAMPLES, FALSE) == 0)
      break;
  self->clock_synced = FALSE;
}

static void
ack (RollerFirmware *self, guint16 last_seq)
{
  guint idx = 0;
  gboolean found = FALSE;

  /* Oldest first, up to and including the first frame with that seq:
   * counting in production order makes the 65535 → 0 wrap a non-issue. */
  for (GList *l = self->memory.head; l != NULL; l = l->next, idx++)
    {
      const guint8 *d = g_bytes_get_data (l->data, NULL);

      if ((guint16) (d[2] | d[3] << 8) == last_seq)
        {
          found = TRUE;
          break;
        }
    }
  if (found)
    for (guint i = 0; i <= idx; i++)
      g_bytes_unref (g_queue_pop_head (&self->memory));
  self->counters.acks++;
  self->counters.acked_seq = last_seq;
}

static void
request_history (RollerFirmware *self)
{
  self->replaying = TRUE;
  for (GList *l = self->memory.head; l != NULL; l = l->next)
    {
      gsize len;
      guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (l->data), &len);
      g_autoptr (GBytes) frame = NULL;

      copy[1] |= DR_FRAME_FLAG_HISTORY;
      frame = g_bytes_new_take (copy, len);
      g_signal_emit (self, signals[SIGNAL_FRAME], 0, frame, TRUE);
    }
  g_signal_emit (self, signals[SIGNAL_HISTORY_END], 0);
}

void
roller_firmware_replay_finished (RollerFirmware *self, gboolean delivered)
{
  if (!self->replaying)
    return;
  self->replaying = FALSE;
  if (delivered)
    g_signal_emit (self, signals[SIGNAL_INDICATION], 0, (guchar) DR_OP_REQUEST_HISTORY,
                   (guchar) DR_RESULT_OK);
}

void
roller_firmware_control_write (RollerFirmware *self, GBytes *value)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (value, &len);
  DrControlRequest req;
  DrCodecStatus st = dr_control_request_decode (data, len, &req);
  guint8 result = DR_RESULT_OK;

  if (st == DR_CODEC_ERR_BAD_OPCODE)
    result = DR_RESULT_UNSUPPORTED;
  else if (st != DR_CODEC_OK)
    result = DR_RESULT_INVALID_PARAMETER;
  else if (self->replaying)
    result = DR_RESULT_BUSY; /* one request at a time: history is still going */
  else
    switch (req.opcode)
      {
        case DR_OP_SET_TIME:
          self->clock_synced = TRUE;
          self->clock_set_unix_ms = (gint64) req.arg.unix_ms;
          self->clock_set_mono_us = g_get_monotonic_time ();
          break;
        case DR_OP_START_STREAM:
          if (req.arg.rate_hz == 0)
            result = DR_RESULT_INVALID_PARAMETER;
          else
            start_stream (self, req.arg.rate_hz);
          break;
        case DR_OP_STOP_STREAM:
          stop_stream (self);
          break;
        case DR_OP_REQUEST_HISTORY:
          if (opt.verbose)
            g_message ("%s: replaying %u frames", self->address,
                       g_queue_get_length (&self->memory));
          /* The result goes out after the last frame. */
          request_history (self);
          g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);
          return;
        case DR_OP_ACK:
          ack (self, req.arg.last_seq);
          break;
        default:
          result = DR_RESULT_UNSUPPORTED;
          break;
      }
  if (opt.verbose)
    g_message ("%s: control 0x%02x → %u", self->address, len > 0 ? data[0] : 0, result);
  g_signal_emit (self, signals[SIGNAL_INDICATION], 0, (guchar) (len > 0 ? data[0] : 0),
                 (guchar) result);
  g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);
}

void
roller_firmware_lose_frames (RollerFirmware *self, guint count)
{
  self->lose_count += count;
}

gboolean
roller_firmware_set_protocol_version (RollerFirmware *self, guint version)
{
  if (version != DR_PROTOCOL_VERSION && version != DR_PROTOCOL_VERSION_2)
    return FALSE;
  self->protocol_version = (guint8) version;
  return TRUE;
}

void
roller_firmware_set_battery (RollerFirmware *self, guint8 percent)
{
  self->battery = MIN (percent, 100);
}

gboolean
roller_firmware_is_streaming (RollerFirmware *self)
{
  return self->streaming;
}

gboolean
roller_firmware_is_exhausted (RollerFirmware *self)
{
  return self->exhausted;
}

gboolean
roller_firmware_is_clock_synced (RollerFirmware *self)
{
  return self->clock_synced;
}

guint
roller_firmware_get_wall_rate (RollerFirmware *self)
{
  return self->wall_rate;
}

guint
roller_firmware_get_stream_rate (RollerFirmware *self)
{
  return self->stream_rate;
}

guint16
roller_firmware_get_next_seq (RollerFirmware *self)
{
  return self->next_seq;
}

guint8
roller_firmware_get_battery (RollerFirmware *self)
{
  return self->battery;
}

guint32
roller_firmware_get_head_id (RollerFirmware *self)
{
  return self->head.head_id;
}

guint
roller_firmware_get_stored (RollerFirmware *self)
{
  return g_queue_get_length (&self->memory);
}

const RollerFirmwareCounters *
roller_firmware_get_counters (RollerFirmware *self)
{
  return &self->counters;
}

RollerFirmware *
roller_firmware_new (const char *address, guint index)
{
  RollerFirmware *self = g_object_new (ROLLER_TYPE_FIRMWARE, NULL);

  self->address = g_strdup (address);
  self->battery = (guint8) CLAMP (opt.battery, 0, 100);
  self->protocol_version = opt.protocol_version == 2 ? DR_PROTOCOL_VERSION_2 : DR_PROTOCOL_VERSION;
  self->boot_mono_us = g_get_monotonic_time ();
  self->head.version = DR_PROTOCOL_VERSION;
  self->head.needle_length_um = (guint16) opt.needle_um;
  self->head.needle_count = (guint16) opt.needle_count;
  self->head.drum_diameter_10um = (guint16) opt.drum_diameter_10um;
  self->head.drum_width_10um = (guint16) opt.drum_width_10um;
  self->head.ticks_per_rev = (guint16) opt.ticks_per_rev;
  self->head.head_id = (guint32) (opt.head_id + index);
  sample_gen_init (&self->gen, index);
  if (opt.history > 0)
    fill_history (self, (guint) opt.history);
  return self;
}

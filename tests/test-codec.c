/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-codec.c: the roller protocol codec (protocol/roller-protocol.h).
 *
 * Round trips of every item, every malformed class with its reason, extreme
 * field values, and the worked examples of protocol/PROTOCOL.md: each example
 * is checked byte for byte against the encoder and the decoder, and the same
 * hex must appear as a code block in PROTOCOL.md, so the document cannot drift
 * from the code.
 */
#include <glib.h>
#include <string.h>

#include "roller-protocol.h"

/* Reasons compare by name so a failure says "length-mismatch", not "2". */
#define assert_status(got, want)                                                                   \
  g_assert_cmpstr (dr_codec_status_name (got), ==, dr_codec_status_name (want))

static size_t
hex_to_bytes (const char *hex, uint8_t *out, size_t cap)
{
  size_t n = 0;

  for (const char *p = hex; *p;)
    {
      int hi, lo;

      if (g_ascii_isspace (*p))
        {
          p++;
          continue;
        }
      hi = g_ascii_xdigit_value (p[0]);
      lo = g_ascii_xdigit_value (p[1]);
      g_assert_cmpint (hi, >=, 0);
      g_assert_cmpint (lo, >=, 0);
      g_assert_cmpuint (n, <, cap);
      out[n++] = (uint8_t) (hi << 4 | lo);
      p += 2;
    }
  return n;
}

/* PROTOCOL.md with every whitespace run collapsed to one space, so an
 * example matches however its lines are wrapped. */
static char *
load_protocol_md (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GRegex) ws = NULL;
  const char *path;

  path = g_test_get_filename (G_TEST_DIST, "..", "protocol", "PROTOCOL.md", NULL);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  ws = g_regex_new ("\\s+", 0, 0, &error);
  g_assert_no_error (error);
  return g_regex_replace_literal (ws, contents, -1, 0, " ", 0, &error);
}

/* The example must be a whole fenced block, not a prefix of a longer one. */
static void
assert_example_in_protocol_md (const char *hex)
{
  g_autofree char *doc = load_protocol_md ();
  g_autofree char *block = g_strdup_printf ("``` %s ```", hex);

  if (!strstr (doc, block))
    g_error ("PROTOCOL.md has no code block with exactly: %s", hex);
}

static void
assert_bytes_hex (const uint8_t *buf, size_t len, const char *hex)
{
  uint8_t want[DR_FRAME_MAX_LEN + 16];
  size_t want_len = hex_to_bytes (hex, want, sizeof want);

  g_assert_cmpmem (buf, len, want, want_len);
}

static void
assert_frames_equal (const DrFrame *a, const DrFrame *b)
{
  g_assert_cmpuint (a->version, ==, b->version);
  g_assert_cmpuint (a->flags, ==, b->flags);
  g_assert_cmpuint (a->seq, ==, b->seq);
  g_assert_cmpuint (a->t0_ms, ==, b->t0_ms);
  g_assert_cmpuint (a->n_samples, ==, b->n_samples);
  for (unsigned i = 0; i < a->n_samples; i++)
    {
      g_assert_cmpuint (a->samples[i].dt_ms, ==, b->samples[i].dt_ms);
      g_assert_cmpuint (a->samples[i].ticks, ==, b->samples[i].ticks);
      g_assert_cmpuint (a->samples[i].force_mn, ==, b->samples[i].force_mn);
      g_assert_cmpuint (a->samples[i].zone, ==, b->samples[i].zone);
      if (a->version == DR_PROTOCOL_VERSION_2)
        g_assert_cmpuint (a->samples[i].motion, ==, b->samples[i].motion);
    }
}

static void
assert_head_infos_equal (const DrHeadInfo *a, const DrHeadInfo *b)
{
  g_assert_cmpuint (a->version, ==, b->version);
  g_assert_cmpuint (a->needle_length_um, ==, b->needle_length_um);
  g_assert_cmpuint (a->needle_count, ==, b->needle_count);
  g_assert_cmpuint (a->drum_diameter_10um, ==, b->drum_diameter_10um);
  g_assert_cmpuint (a->drum_width_10um, ==, b->drum_width_10um);
  g_assert_cmpuint (a->ticks_per_rev, ==, b->ticks_per_rev);
  g_assert_cmpuint (a->head_id, ==, b->head_id);
}

static void
assert_statuses_equal (const DrStatus *a, const DrStatus *b)
{
  g_assert_cmpuint (a->version, ==, b->version);
  g_assert_cmpuint (a->state, ==, b->state);
  g_assert_cmpuint (a->history_frames_pending, ==, b->history_frames_pending);
  g_assert_cmpuint (a->flags, ==, b->flags);
}

static void
assert_requests_equal (const DrControlRequest *a, const DrControlRequest *b)
{
  g_assert_cmpuint (a->opcode, ==, b->opcode);
  switch (a->opcode)
    {
      case DR_OP_SET_TIME:
        g_assert_cmpuint (a->arg.unix_ms, ==, b->arg.unix_ms);
        break;
      case DR_OP_START_STREAM:
        g_assert_cmpuint (a->arg.rate_hz, ==, b->arg.rate_hz);
        break;
      case DR_OP_ACK:
        g_assert_cmpuint (a->arg.last_seq, ==, b->arg.last_seq);
        break;
      default:
        break;
    }
}

/* Encode, decode, compare, and re-encode to the very same bytes. */
static void
frame_roundtrip (const DrFrame *in)
{
  uint8_t buf[DR_FRAME_MAX_LEN], again[DR_FRAME_MAX_LEN];
  size_t len = 0, again_len = 0;
  DrFrame out;

  assert_status (dr_frame_encode (in, buf, sizeof buf, &len), DR_CODEC_OK);
  g_assert_cmpuint (len, ==,
                    DR_FRAME_HEADER_LEN
                        + (in->version == DR_PROTOCOL_VERSION_2 ? DR_SAMPLE_V2_LEN : DR_SAMPLE_LEN)
                              * in->n_samples);
  assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
  assert_frames_equal (in, &out);
  assert_status (dr_frame_encode (&out, again, sizeof again, &again_len), DR_CODEC_OK);
  g_assert_cmpmem (buf, len, again, again_len);
}

/* The 2-sample example of PROTOCOL.md, reused as a known-good base. */
static const char example_frame_hex[] = "01 00 07 00 00 68 e5 cf 8b 01 00 00 02 "
                                        "00 00 e8 03 00 00 c4 09 01 "
                                        "14 00 f4 03 00 00 50 14 01";

static const DrFrame example_frame = {
  .version = 1,
  .flags = 0,
  .seq = 7,
  .t0_ms = 1700000000000ull,
  .n_samples = 2,
  .samples = {
    { .dt_ms = 0, .ticks = 1000, .force_mn = 2500, .zone = 1 },
    { .dt_ms = 20, .ticks = 1012, .force_mn = 5200, .zone = 1 },
  },
};

static void
test_status_names (void)
{
  const char *names[DR_CODEC_N_ERRORS] = {
    "ok",
    "truncated",
    "length-mismatch",
    "bad-version",
    "no-samples",
    "too-many-samples",
    "buffer-too-small",
    "bad-opcode",
    "bad-parameter",
  };

  /* Names are stored and shown on D-Bus: they must not change. */
  for (int i = 0; i < DR_CODEC_N_ERRORS; i++)
    g_assert_cmpstr (dr_codec_status_name ((DrCodecStatus) i), ==, names[i]);
  g_assert_cmpstr (dr_codec_status_name (DR_CODEC_N_ERRORS), ==, "unknown");
  g_assert_cmpstr (dr_codec_status_name ((DrCodecStatus) -1), ==, "unknown");
}

static void
test_frame_roundtrip (void)
{
  guint32 state = 12345;

  /* Every legal sample count, with arbitrary (but fixed) field values. */
  for (unsigned n = 1; n <= DR_FRAME_MAX_SAMPLES; n++)
    {
      DrFrame f = { .version = 1, .n_samples = (uint8_t) n };

      state = state * 1103515245u + 12345u;
      f.flags = (uint8_t) (state >> 24);
      f.seq = (uint16_t) (state >> 8);
      f.t0_ms = (uint64_t) state << 20 | n;
      for (unsigned i = 0; i < n; i++)
        {
          state = state * 1103515245u + 12345u;
          f.samples[i].dt_ms = (uint16_t) state;
          f.samples[i].ticks = state ^ 0xa5a5a5a5u;
          f.samples[i].force_mn = (uint16_t) (state >> 16);
          f.samples[i].zone = (uint8_t) (i % 8 == 7 ? DR_ZONE_UNKNOWN : i % 7);
        }
      frame_roundtrip (&f);
    }
}

static void
test_frame_max_samples (void)
{
  DrFrame f = { .version = 1, .n_samples = DR_FRAME_MAX_SAMPLES };
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;

  g_assert_cmpuint (DR_FRAME_V1_MAX_LEN, ==, 238);
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
  g_assert_cmpuint (len, ==, 238);
  frame_roundtrip (&f);
}

/* The largest value of every field, in the byte positions PROTOCOL.md gives. */
static void
test_frame_wrap_values (void)
{
  DrFrame f = {
    .version = 1,
    .flags = 0,
    .seq = 0xffff,
    .t0_ms = UINT64_MAX,
    .n_samples = 2,
    .samples = {
      { .dt_ms = 0xffff, .ticks = 0xffffffffu, .force_mn = DR_FORCE_SENSOR_FAULT,
        .zone = DR_ZONE_UNKNOWN },
      { .dt_ms = 0, .ticks = 0, .force_mn = 0, .zone = 0 },
    },
  };
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;
  DrFrame out;

  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
  assert_bytes_hex (buf, len,
                    "01 00 ff ff ff ff ff ff ff ff ff ff 02 "
                    "ff ff ff ff ff ff ff ff ff "
                    "00 00 00 00 00 00 00 00 00");
  assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
  g_assert_cmpuint (out.seq, ==, 0xffff);
  g_assert_cmpuint (out.t0_ms, ==, UINT64_MAX);
  g_assert_cmpuint (out.samples[0].ticks, ==, 0xffffffffu);
  g_assert_cmpuint (out.samples[0].force_mn, ==, DR_FORCE_SENSOR_FAULT);
  g_assert_cmpuint (out.samples[0].zone, ==, DR_ZONE_UNKNOWN);
  g_assert_cmpuint (out.samples[0].dt_ms, ==, 0xffff);
  frame_roundtrip (&f);
}

/* Reserved flag bits pass through untouched: ignoring them is the user's job. */
static void
test_frame_reserved_flags (void)
{
  for (unsigned flags = 0; flags <= 0xff; flags++)
    {
      DrFrame f = example_frame;
      DrFrame out;
      uint8_t buf[DR_FRAME_MAX_LEN];
      size_t len = 0;

      f.flags = (uint8_t) flags;
      assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
      g_assert_cmpuint (buf[1], ==, flags);
      assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
      g_assert_cmpuint (out.flags, ==, flags);
    }
}

static void
test_frame_malformed_truncated (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out;

  assert_status (dr_frame_decode (NULL, 0, &out), DR_CODEC_ERR_TRUNCATED);
  for (size_t l = 0; l < DR_FRAME_HEADER_LEN; l++)
    assert_status (dr_frame_decode (buf, l, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
}

static void
test_frame_malformed_short (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out;

  /* Header says 2 samples: one byte missing, a whole sample missing, or
   * only the header. */
  assert_status (dr_frame_decode (buf, len - 1, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  assert_status (dr_frame_decode (buf, len - DR_SAMPLE_LEN, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
}

static void
test_frame_malformed_long (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN + 16] = { 0 };
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out;

  assert_status (dr_frame_decode (buf, len + 1, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  assert_status (dr_frame_decode (buf, len + DR_SAMPLE_LEN, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  assert_status (dr_frame_decode (buf, sizeof buf, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
}

/* For every legal n exactly one length is accepted. */
static void
test_frame_malformed_every_length (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN + 16] = { 0 };
  DrFrame out;

  buf[0] = DR_PROTOCOL_VERSION;
  for (unsigned n = 1; n <= DR_FRAME_MAX_SAMPLES; n++)
    {
      size_t good = DR_FRAME_HEADER_LEN + DR_SAMPLE_LEN * n;

      buf[12] = (uint8_t) n;
      for (size_t l = DR_FRAME_HEADER_LEN; l < sizeof buf; l++)
        assert_status (dr_frame_decode (buf, l, &out),
                       l == good ? DR_CODEC_OK : DR_CODEC_ERR_LENGTH_MISMATCH);
    }
}

static void
test_frame_malformed_n0 (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out;

  buf[12] = 0;
  assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN, &out), DR_CODEC_ERR_NO_SAMPLES);
  assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_ERR_NO_SAMPLES);
}

static void
test_frame_malformed_n26 (void)
{
  uint8_t buf[DR_FRAME_HEADER_LEN + DR_SAMPLE_LEN * 255] = { 0 };
  DrFrame out;

  hex_to_bytes (example_frame_hex, buf, sizeof buf);
  buf[12] = 26;
  /* Even at the length 26 samples would need. */
  assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN + DR_SAMPLE_LEN * 26, &out),
                 DR_CODEC_ERR_TOO_MANY_SAMPLES);
  assert_status (dr_frame_decode (buf, DR_FRAME_MAX_LEN, &out), DR_CODEC_ERR_TOO_MANY_SAMPLES);
  buf[12] = 255;
  assert_status (dr_frame_decode (buf, sizeof buf, &out), DR_CODEC_ERR_TOO_MANY_SAMPLES);
}

static void
test_frame_malformed_bad_version (void)
{
  const uint8_t versions[] = { 0, 3, 0x10, 0xff };
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out;

  for (size_t i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      buf[0] = versions[i];
      assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_ERR_BAD_VERSION);
    }
}

/* When several things are wrong the documented order decides the reason. */
static void
test_frame_malformed_order (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out;

  buf[0] = 3;
  buf[12] = 0;
  assert_status (dr_frame_decode (buf, 12, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_frame_decode (buf, len + 1, &out), DR_CODEC_ERR_BAD_VERSION);
  buf[0] = 1;
  assert_status (dr_frame_decode (buf, len + 1, &out), DR_CODEC_ERR_NO_SAMPLES);
  buf[12] = 26;
  assert_status (dr_frame_decode (buf, len + 1, &out), DR_CODEC_ERR_TOO_MANY_SAMPLES);
}

/* A rejected frame leaves the caller's struct as it was. */
static void
test_frame_malformed_output_untouched (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out, before;

  memset (&out, 0xaa, sizeof out);
  before = out;
  assert_status (dr_frame_decode (buf, len - 1, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  g_assert_cmpmem (&out, sizeof out, &before, sizeof before);
}

static void
test_frame_encode_errors (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN], before[DR_FRAME_MAX_LEN];
  size_t len = 0;
  DrFrame f = example_frame;

  f.version = 3;
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_ERR_BAD_VERSION);
  f = example_frame;
  f.n_samples = 0;
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_ERR_NO_SAMPLES);
  f.n_samples = 26;
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_ERR_TOO_MANY_SAMPLES);

  /* One byte short: nothing is written and out_len is not touched. */
  memset (buf, 0x5a, sizeof buf);
  memcpy (before, buf, sizeof buf);
  len = 99;
  assert_status (dr_frame_encode (&example_frame, buf, 30, &len), DR_CODEC_ERR_BUFFER_TOO_SMALL);
  g_assert_cmpmem (buf, sizeof buf, before, sizeof before);
  g_assert_cmpuint (len, ==, 99);
  assert_status (dr_frame_encode (&example_frame, buf, 31, &len), DR_CODEC_OK);
  g_assert_cmpuint (len, ==, 31);
}

static void
test_head_info_roundtrip (void)
{
  const DrHeadInfo infos[] = {
    { 1, 250, 192, 1500, 1500, 360, 1 },
    { 1, 0, 0, 0, 0, 0, 0 },
    { 1, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffffffffu },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (infos); i++)
    {
      uint8_t buf[DR_HEAD_INFO_LEN], again[DR_HEAD_INFO_LEN];
      size_t len = 0, again_len = 0;
      DrHeadInfo out;

      assert_status (dr_head_info_encode (&infos[i], buf, sizeof buf, &len), DR_CODEC_OK);
      g_assert_cmpuint (len, ==, DR_HEAD_INFO_LEN);
      assert_status (dr_head_info_decode (buf, len, &out), DR_CODEC_OK);
      assert_head_infos_equal (&infos[i], &out);
      assert_status (dr_head_info_encode (&out, again, sizeof again, &again_len), DR_CODEC_OK);
      g_assert_cmpmem (buf, len, again, again_len);
    }
}

static void
test_head_info_malformed (void)
{
  uint8_t buf[DR_HEAD_INFO_LEN + 1] = { 1 };
  DrHeadInfo info = { .version = 1 };
  DrHeadInfo out;
  size_t len;

  assert_status (dr_head_info_decode (buf, 0, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_head_info_decode (buf, DR_HEAD_INFO_LEN - 1, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_head_info_decode (buf, DR_HEAD_INFO_LEN + 1, &out),
                 DR_CODEC_ERR_LENGTH_MISMATCH);
  assert_status (dr_head_info_decode (buf, DR_HEAD_INFO_LEN, &out), DR_CODEC_OK);
  buf[0] = 2;
  assert_status (dr_head_info_decode (buf, DR_HEAD_INFO_LEN, &out), DR_CODEC_ERR_BAD_VERSION);
  buf[0] = 0;
  assert_status (dr_head_info_decode (buf, DR_HEAD_INFO_LEN, &out), DR_CODEC_ERR_BAD_VERSION);

  assert_status (dr_head_info_encode (&info, buf, DR_HEAD_INFO_LEN - 1, &len),
                 DR_CODEC_ERR_BUFFER_TOO_SMALL);
  info.version = 0;
  assert_status (dr_head_info_encode (&info, buf, sizeof buf, &len), DR_CODEC_ERR_BAD_VERSION);
}

static void
test_status_roundtrip (void)
{
  for (uint8_t state = 0; state <= DR_ROLLER_STATE_FAULT; state++)
    {
      const DrStatus in = {
        .version = 1,
        .state = state,
        .history_frames_pending = state == 3 ? 0xffff : state * 1000,
        .flags = state == 3 ? 0xff : DR_STATUS_FLAG_HEAD_DETACHED,
      };
      uint8_t buf[DR_STATUS_LEN], again[DR_STATUS_LEN];
      size_t len = 0, again_len = 0;
      DrStatus out;

      assert_status (dr_status_encode (&in, buf, sizeof buf, &len), DR_CODEC_OK);
      g_assert_cmpuint (len, ==, DR_STATUS_LEN);
      assert_status (dr_status_decode (buf, len, &out), DR_CODEC_OK);
      assert_statuses_equal (&in, &out);
      assert_status (dr_status_encode (&out, again, sizeof again, &again_len), DR_CODEC_OK);
      g_assert_cmpmem (buf, len, again, again_len);
    }
}

static void
test_status_malformed (void)
{
  uint8_t buf[DR_STATUS_LEN + 1] = { 1, 0, 0, 0, 0, 0 };
  DrStatus status = { .version = 1, .state = 4 };
  DrStatus out;
  size_t len;

  assert_status (dr_status_decode (buf, 0, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_status_decode (buf, DR_STATUS_LEN - 1, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_status_decode (buf, DR_STATUS_LEN + 1, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  buf[1] = 4;
  assert_status (dr_status_decode (buf, DR_STATUS_LEN, &out), DR_CODEC_ERR_BAD_PARAMETER);
  buf[1] = 0xff;
  assert_status (dr_status_decode (buf, DR_STATUS_LEN, &out), DR_CODEC_ERR_BAD_PARAMETER);
  buf[0] = 2;
  assert_status (dr_status_decode (buf, DR_STATUS_LEN, &out), DR_CODEC_ERR_BAD_VERSION);

  assert_status (dr_status_encode (&status, buf, sizeof buf, &len), DR_CODEC_ERR_BAD_PARAMETER);
  status.version = 0;
  assert_status (dr_status_encode (&status, buf, sizeof buf, &len), DR_CODEC_ERR_BAD_VERSION);
  status = (DrStatus){ .version = 1 };
  assert_status (dr_status_encode (&status, buf, DR_STATUS_LEN - 1, &len),
                 DR_CODEC_ERR_BUFFER_TOO_SMALL);
}

static void
test_control_request_roundtrip (void)
{
  const DrControlRequest reqs[] = {
    { .opcode = DR_OP_SET_TIME, .arg.unix_ms = 0 },
    { .opcode = DR_OP_SET_TIME, .arg.unix_ms = UINT64_MAX },
    { .opcode = DR_OP_START_STREAM, .arg.rate_hz = 0 },
    { .opcode = DR_OP_START_STREAM, .arg.rate_hz = 255 },
    { .opcode = DR_OP_STOP_STREAM },
    { .opcode = DR_OP_REQUEST_HISTORY },
    { .opcode = DR_OP_ACK, .arg.last_seq = 0 },
    { .opcode = DR_OP_ACK, .arg.last_seq = 0xffff },
  };
  const size_t lens[] = { 9, 9, 2, 2, 1, 1, 3, 3 };

  for (size_t i = 0; i < G_N_ELEMENTS (reqs); i++)
    {
      uint8_t buf[DR_CONTROL_REQUEST_MAX_LEN], again[DR_CONTROL_REQUEST_MAX_LEN];
      size_t len = 0, again_len = 0;
      DrControlRequest out;

      assert_status (dr_control_request_encode (&reqs[i], buf, sizeof buf, &len), DR_CODEC_OK);
      g_assert_cmpuint (len, ==, lens[i]);
      assert_status (dr_control_request_decode (buf, len, &out), DR_CODEC_OK);
      assert_requests_equal (&reqs[i], &out);
      assert_status (dr_control_request_encode (&out, again, sizeof again, &again_len),
                     DR_CODEC_OK);
      g_assert_cmpmem (buf, len, again, again_len);
    }
}

static void
test_control_request_malformed (void)
{
  const struct
  {
    uint8_t opcode;
    size_t len;
  } ops[] = {
    { DR_OP_SET_TIME, 9 },        { DR_OP_START_STREAM, 2 }, { DR_OP_STOP_STREAM, 1 },
    { DR_OP_REQUEST_HISTORY, 1 }, { DR_OP_ACK, 3 },
  };
  const uint8_t bad_opcodes[] = { 0x00, 0x06, 0x7f, DR_OP_RESPONSE, 0x81, 0xff };
  uint8_t buf[DR_CONTROL_REQUEST_MAX_LEN + 8] = { 0 };
  DrControlRequest out;

  assert_status (dr_control_request_decode (buf, 0, &out), DR_CODEC_ERR_TRUNCATED);

  for (size_t i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      buf[0] = ops[i].opcode;
      for (size_t l = 1; l < sizeof buf; l++)
        {
          DrCodecStatus want = l < ops[i].len   ? DR_CODEC_ERR_TRUNCATED
                               : l > ops[i].len ? DR_CODEC_ERR_LENGTH_MISMATCH
                                                : DR_CODEC_OK;

          assert_status (dr_control_request_decode (buf, l, &out), want);
        }
    }

  for (size_t i = 0; i < G_N_ELEMENTS (bad_opcodes); i++)
    {
      DrControlRequest req = { .opcode = bad_opcodes[i] };
      size_t len;

      buf[0] = bad_opcodes[i];
      assert_status (dr_control_request_decode (buf, 1, &out), DR_CODEC_ERR_BAD_OPCODE);
      assert_status (dr_control_request_decode (buf, 3, &out), DR_CODEC_ERR_BAD_OPCODE);
      assert_status (dr_control_request_decode (buf, 9, &out), DR_CODEC_ERR_BAD_OPCODE);
      assert_status (dr_control_request_encode (&req, buf, sizeof buf, &len),
                     DR_CODEC_ERR_BAD_OPCODE);
    }
}

static void
test_control_request_encode_errors (void)
{
  DrControlRequest req = { .opcode = DR_OP_SET_TIME, .arg.unix_ms = 1 };
  uint8_t buf[DR_CONTROL_REQUEST_MAX_LEN];
  size_t len;

  assert_status (dr_control_request_encode (&req, buf, 8, &len), DR_CODEC_ERR_BUFFER_TOO_SMALL);
  req = (DrControlRequest){ .opcode = DR_OP_ACK, .arg.last_seq = 1 };
  assert_status (dr_control_request_encode (&req, buf, 2, &len), DR_CODEC_ERR_BUFFER_TOO_SMALL);
  req = (DrControlRequest){ .opcode = DR_OP_STOP_STREAM };
  assert_status (dr_control_request_encode (&req, buf, 0, &len), DR_CODEC_ERR_BUFFER_TOO_SMALL);
  assert_status (dr_control_request_encode (&req, buf, 1, &len), DR_CODEC_OK);
  g_assert_cmpuint (len, ==, 1);
}

static void
test_control_response_roundtrip (void)
{
  /* 0x42 stands for an opcode the roller did not know: it is echoed back. */
  const uint8_t opcodes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x42, 0x00, 0xff };

  for (size_t i = 0; i < G_N_ELEMENTS (opcodes); i++)
    for (uint8_t result = 0; result <= DR_RESULT_BUSY; result++)
      {
        const DrControlResponse in = { .request_opcode = opcodes[i], .result = result };
        uint8_t buf[DR_CONTROL_RESPONSE_LEN];
        size_t len = 0;
        DrControlResponse out;

        assert_status (dr_control_response_encode (&in, buf, sizeof buf, &len), DR_CODEC_OK);
        g_assert_cmpuint (len, ==, DR_CONTROL_RESPONSE_LEN);
        g_assert_cmpuint (buf[0], ==, DR_OP_RESPONSE);
        g_assert_cmpuint (buf[1], ==, opcodes[i]);
        g_assert_cmpuint (buf[2], ==, result);
        assert_status (dr_control_response_decode (buf, len, &out), DR_CODEC_OK);
        g_assert_cmpuint (out.request_opcode, ==, in.request_opcode);
        g_assert_cmpuint (out.result, ==, in.result);
      }
}

static void
test_control_response_malformed (void)
{
  uint8_t buf[4] = { 0x80, 0x05, 0x00, 0x00 };
  DrControlResponse resp = { .request_opcode = 1, .result = 4 };
  DrControlResponse out;
  size_t len;

  assert_status (dr_control_response_decode (buf, 0, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_control_response_decode (buf, 2, &out), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_control_response_decode (buf, 4, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
  assert_status (dr_control_response_decode (buf, 3, &out), DR_CODEC_OK);
  buf[2] = 4;
  assert_status (dr_control_response_decode (buf, 3, &out), DR_CODEC_ERR_BAD_PARAMETER);
  buf[2] = 0;
  buf[0] = 0x05;
  assert_status (dr_control_response_decode (buf, 3, &out), DR_CODEC_ERR_BAD_OPCODE);
  buf[0] = 0x81;
  assert_status (dr_control_response_decode (buf, 3, &out), DR_CODEC_ERR_BAD_OPCODE);

  assert_status (dr_control_response_encode (&resp, buf, sizeof buf, &len),
                 DR_CODEC_ERR_BAD_PARAMETER);
  resp.result = DR_RESULT_OK;
  assert_status (dr_control_response_encode (&resp, buf, 2, &len), DR_CODEC_ERR_BUFFER_TOO_SMALL);
}

static void
test_battery (void)
{
  uint8_t buf[2] = { 0, 0 };
  uint8_t percent = 0xee;

  for (unsigned v = 0; v <= 0xff; v++)
    {
      buf[0] = (uint8_t) v;
      if (v <= 100)
        {
          assert_status (dr_battery_level_decode (buf, 1, &percent), DR_CODEC_OK);
          g_assert_cmpuint (percent, ==, v);
        }
      else
        {
          assert_status (dr_battery_level_decode (buf, 1, &percent), DR_CODEC_ERR_BAD_PARAMETER);
        }
    }
  buf[0] = 50;
  assert_status (dr_battery_level_decode (buf, 0, &percent), DR_CODEC_ERR_TRUNCATED);
  assert_status (dr_battery_level_decode (buf, 2, &percent), DR_CODEC_ERR_LENGTH_MISMATCH);
}

/* The last sample's time, for any t0 the air carries: unsigned, so a t0
 * just below INT64_MAX or near 2^64 gives the wrapped sum, never a signed
 * overflow (the daemon used to sum in int64_t: UBSan stopped it). */
static void
test_frame_end_time (void)
{
  DrFrame f = { .version = DR_PROTOCOL_VERSION, .n_samples = 3, .t0_ms = 1000 };

  f.samples[0].dt_ms = 7; /* the first sample's dt does not count */
  f.samples[1].dt_ms = 10;
  f.samples[2].dt_ms = 20;
  g_assert_cmpuint (dr_frame_end_ms (&f), ==, 1030);

  f.t0_ms = (uint64_t) INT64_MAX - 10;
  g_assert_cmpuint (dr_frame_end_ms (&f), ==, (uint64_t) INT64_MAX + 20);
  f.t0_ms = UINT64_MAX - 10;
  g_assert_cmpuint (dr_frame_end_ms (&f), ==, 19);

  f.t0_ms = 0;
  f.n_samples = DR_FRAME_MAX_SAMPLES;
  for (unsigned i = 0; i < DR_FRAME_MAX_SAMPLES; i++)
    f.samples[i].dt_ms = UINT16_MAX;
  g_assert_cmpuint (dr_frame_end_ms (&f), ==, (uint64_t) UINT16_MAX * (DR_FRAME_MAX_SAMPLES - 1));

  /* A struct that did not come from the decoder: never read past samples[]. */
  f.n_samples = 200;
  g_assert_cmpuint (dr_frame_end_ms (&f), ==, (uint64_t) UINT16_MAX * (DR_FRAME_MAX_SAMPLES - 1));
  f.n_samples = 1;
  g_assert_cmpuint (dr_frame_end_ms (&f), ==, 0);
}

/* Device Information strings: cut at a NUL, at most 512 bytes (an
 * attribute's maximum), never inside a UTF-8 sequence. The daemon used to
 * publish whatever length bluetoothd handed it (a 100 KB FirmwareVersion). */
static void
test_text_value (void)
{
  g_autofree uint8_t *buf = g_malloc (2048);
  static const uint8_t padded[] = { '1', '.', '4', 0, 0, 0 };

  g_assert_cmpuint (dr_text_value_len (NULL, 10), ==, 0);
  g_assert_cmpuint (dr_text_value_len (padded, 0), ==, 0);
  g_assert_cmpuint (dr_text_value_len (padded, sizeof padded), ==, 3);
  g_assert_cmpuint (dr_text_value_len (padded, 2), ==, 2);

  memset (buf, 'a', 2048);
  g_assert_cmpuint (dr_text_value_len (buf, DR_TEXT_VALUE_MAX_LEN), ==, DR_TEXT_VALUE_MAX_LEN);
  g_assert_cmpuint (dr_text_value_len (buf, 2048), ==, DR_TEXT_VALUE_MAX_LEN);
  buf[DR_TEXT_VALUE_MAX_LEN] = 0; /* a NUL right after the bound: nothing to split */
  g_assert_cmpuint (dr_text_value_len (buf, 2048), ==, DR_TEXT_VALUE_MAX_LEN);

  /* "v" then "é" (C3 A9) from byte 1: byte 512 is the second half of one */
  buf[0] = 'v';
  for (unsigned i = 1; i + 1 < 2048; i += 2)
    {
      buf[i] = 0xC3;
      buf[i + 1] = 0xA9;
    }
  g_assert_cmpuint (dr_text_value_len (buf, 2048), ==, 511);

  /* a 4-byte sequence (U+1F600) over the bound: cut before it */
  memset (buf, 'a', 2048);
  memcpy (buf + 510, "\xF0\x9F\x98\x80", 4);
  g_assert_cmpuint (dr_text_value_len (buf, 2048), ==, 510);

  /* invalid: continuation bytes only; steps back no more than a sequence */
  memset (buf, 0x80, 2048);
  g_assert_cmpuint (dr_text_value_len (buf, 2048), ==, DR_TEXT_VALUE_MAX_LEN - 3);
}

/* Version 2 */

static DrFrame
v2_frame (unsigned n)
{
  DrFrame f
      = { .version = DR_PROTOCOL_VERSION_2, .seq = 3, .t0_ms = 1700000000000, .n_samples = n };

  for (unsigned i = 0; i < n; i++)
    {
      f.samples[i].dt_ms = i ? 20 : 0;
      f.samples[i].ticks = 1000 + 7 * i;
      f.samples[i].force_mn = (uint16_t) (3000 + i);
      f.samples[i].zone = (uint8_t) (i % 7);
      f.samples[i].motion = (uint8_t) (i % 4);
    }
  return f;
}

/* 13 + 10·23 = 243 bytes: the most a 247 MTU (244-byte payload) carries. */
static void
test_frame_v2_max_samples (void)
{
  DrFrame f = v2_frame (DR_FRAME_V2_MAX_SAMPLES);
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;

  g_assert_cmpuint (DR_FRAME_V2_MAX_LEN, ==, 243);
  g_assert_cmpuint (DR_FRAME_MAX_LEN, ==, 243);
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
  g_assert_cmpuint (len, ==, 243);
  frame_roundtrip (&f);
  for (unsigned n = 1; n <= DR_FRAME_V2_MAX_SAMPLES; n++)
    {
      f = v2_frame (n);
      frame_roundtrip (&f);
    }
}

static void
test_frame_v2_n24 (void)
{
  DrFrame f = v2_frame (DR_FRAME_V2_MAX_SAMPLES);
  uint8_t buf[DR_FRAME_HEADER_LEN + DR_SAMPLE_V2_LEN * 25] = { 0 };
  size_t len = 0;
  DrFrame out;

  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
  buf[12] = 24;
  assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN + DR_SAMPLE_V2_LEN * 24, &out),
                 DR_CODEC_ERR_TOO_MANY_SAMPLES);
  /* 25 is fine in version 1, not in version 2 */
  buf[12] = 25;
  assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN + DR_SAMPLE_V2_LEN * 25, &out),
                 DR_CODEC_ERR_TOO_MANY_SAMPLES);
  buf[12] = 0;
  assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN, &out), DR_CODEC_ERR_NO_SAMPLES);
  f.n_samples = 24;
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_ERR_TOO_MANY_SAMPLES);
  f.n_samples = 0;
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_ERR_NO_SAMPLES);
}

/* Only 13 + 10·n is a version 2 frame; 13 + 9·n (a v1 length) is not. */
static void
test_frame_v2_length_mismatch (void)
{
  uint8_t buf[DR_FRAME_HEADER_LEN + DR_SAMPLE_V2_LEN * 25] = { 0 };
  DrFrame out;

  buf[0] = DR_PROTOCOL_VERSION_2;
  for (unsigned n = 1; n <= DR_FRAME_V2_MAX_SAMPLES; n++)
    {
      size_t good = DR_FRAME_HEADER_LEN + DR_SAMPLE_V2_LEN * n;

      buf[12] = (uint8_t) n;
      for (size_t len = DR_FRAME_HEADER_LEN; len <= sizeof buf; len++)
        assert_status (dr_frame_decode (buf, len, &out),
                       len == good ? DR_CODEC_OK : DR_CODEC_ERR_LENGTH_MISMATCH);
      assert_status (dr_frame_decode (buf, DR_FRAME_HEADER_LEN + DR_SAMPLE_LEN * n, &out),
                     DR_CODEC_ERR_LENGTH_MISMATCH);
    }
  /* A v1 frame of 10 samples is 103 bytes, a v2 one of 9 samples is 103 too:
   * the version byte decides. */
  buf[12] = 10;
  buf[0] = DR_PROTOCOL_VERSION;
  assert_status (dr_frame_decode (buf, 103, &out), DR_CODEC_OK);
  buf[0] = DR_PROTOCOL_VERSION_2;
  assert_status (dr_frame_decode (buf, 103, &out), DR_CODEC_ERR_LENGTH_MISMATCH);
}

/* Bits 2-7 of motion are reserved: any value decodes, the direction is bits 0-1. */
static void
test_frame_v2_reserved_bits (void)
{
  static const char *const names[] = { "unknown", "horizontal", "vertical", "diagonal" };
  DrFrame f = v2_frame (1);
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;
  DrFrame out;

  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
  for (unsigned m = 0; m < 256; m++)
    {
      buf[22] = (uint8_t) m;
      assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
      g_assert_cmpuint (DR_MOTION_DIRECTION (out.samples[0].motion), ==, m & 3);
      g_assert_cmpstr (dr_direction_name (DR_MOTION_DIRECTION (out.samples[0].motion)), ==,
                       names[m & 3]);
    }
  g_assert_cmpstr (dr_direction_name ((DrDirection) 7), ==, "unknown");
}

/* Version 1 has no motion byte: it decodes as direction unknown and a motion
 * value given to the encoder is not written. */
static void
test_frame_v1_unchanged (void)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = hex_to_bytes (example_frame_hex, buf, sizeof buf);
  DrFrame out, f = example_frame;

  memset (&out, 0xaa, sizeof out);
  assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
  for (unsigned i = 0; i < out.n_samples; i++)
    g_assert_cmpuint (out.samples[i].motion, ==, 0);
  f.samples[0].motion = DR_DIRECTION_VERTICAL;
  assert_status (dr_frame_encode (&f, buf, sizeof buf, &len), DR_CODEC_OK);
  g_assert_cmpuint (len, ==, 31);
  assert_bytes_hex (buf, len, example_frame_hex);
}

/* Worked examples of PROTOCOL.md */

static void
check_frame_example (const DrFrame *frame, const char *hex)
{
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;
  DrFrame out;

  assert_status (dr_frame_encode (frame, buf, sizeof buf, &len), DR_CODEC_OK);
  assert_bytes_hex (buf, len, hex);
  assert_status (dr_frame_decode (buf, len, &out), DR_CODEC_OK);
  assert_frames_equal (frame, &out);
  assert_example_in_protocol_md (hex);
}

static void
test_example_frame (void)
{
  check_frame_example (&example_frame, example_frame_hex);
}

static void
test_example_history_frame (void)
{
  const DrFrame frame = {
    .version = 1,
    .flags = DR_FRAME_FLAG_HISTORY | DR_FRAME_FLAG_CLOCK_UNSYNCED,
    .seq = 0xffff,
    .t0_ms = 5000,
    .n_samples = 2,
    .samples = {
      { .dt_ms = 0, .ticks = 0xfffffff0u, .force_mn = DR_FORCE_SENSOR_FAULT,
        .zone = DR_ZONE_UNKNOWN },
      { .dt_ms = 20, .ticks = 12, .force_mn = 1800, .zone = 6 },
    },
  };

  check_frame_example (&frame, "01 03 ff ff 88 13 00 00 00 00 00 00 02 "
                               "00 00 f0 ff ff ff ff ff ff "
                               "14 00 0c 00 00 00 08 07 06");
}

static void
test_example_v2_frame (void)
{
  const DrFrame frame = {
    .version = 2,
    .flags = 0,
    .seq = 8,
    .t0_ms = 1700000000020,
    .n_samples = 3,
    .samples = {
      { .dt_ms = 0, .ticks = 1012, .force_mn = 5200, .zone = 1, .motion = 0x01 },
      { .dt_ms = 20, .ticks = 1030, .force_mn = 5100, .zone = 1, .motion = 0x02 },
      { .dt_ms = 20, .ticks = 1048, .force_mn = 5000, .zone = 1, .motion = 0xff },
    },
  };

  check_frame_example (&frame, "02 00 08 00 14 68 e5 cf 8b 01 00 00 03 "
                               "00 00 f4 03 00 00 50 14 01 01 "
                               "14 00 06 04 00 00 ec 13 01 02 "
                               "14 00 18 04 00 00 88 13 01 ff");
  g_assert_cmpuint (DR_MOTION_DIRECTION (frame.samples[0].motion), ==, DR_DIRECTION_HORIZONTAL);
  g_assert_cmpuint (DR_MOTION_DIRECTION (frame.samples[1].motion), ==, DR_DIRECTION_VERTICAL);
  g_assert_cmpuint (DR_MOTION_DIRECTION (frame.samples[2].motion), ==, DR_DIRECTION_DIAGONAL);
}

static void
test_example_head_info (void)
{
  const DrHeadInfo info = {
    .version = 1,
    .needle_length_um = 500,
    .needle_count = 540,
    .drum_diameter_10um = 1900,
    .drum_width_10um = 2000,
    .ticks_per_rev = 1024,
    .head_id = 0x12345678,
  };
  const char *hex = "01 f4 01 1c 02 6c 07 d0 07 00 04 78 56 34 12";
  uint8_t buf[DR_HEAD_INFO_LEN];
  size_t len = 0;
  DrHeadInfo out;

  assert_status (dr_head_info_encode (&info, buf, sizeof buf, &len), DR_CODEC_OK);
  assert_bytes_hex (buf, len, hex);
  assert_status (dr_head_info_decode (buf, len, &out), DR_CODEC_OK);
  assert_head_infos_equal (&info, &out);
  assert_example_in_protocol_md (hex);
}

static void
test_example_status (void)
{
  const DrStatus status = {
    .version = 1,
    .state = DR_ROLLER_STATE_ROLLING,
    .history_frames_pending = 3,
    .flags = 0,
  };
  const char *hex = "01 01 03 00 00";
  uint8_t buf[DR_STATUS_LEN];
  size_t len = 0;
  DrStatus out;

  assert_status (dr_status_encode (&status, buf, sizeof buf, &len), DR_CODEC_OK);
  assert_bytes_hex (buf, len, hex);
  assert_status (dr_status_decode (buf, len, &out), DR_CODEC_OK);
  assert_statuses_equal (&status, &out);
  assert_example_in_protocol_md (hex);
}

static void
test_example_control_requests (void)
{
  const struct
  {
    DrControlRequest req;
    const char *hex;
  } examples[] = {
    { { .opcode = DR_OP_SET_TIME, .arg.unix_ms = 1700000000000ull }, "01 00 68 e5 cf 8b 01 00 00" },
    { { .opcode = DR_OP_START_STREAM, .arg.rate_hz = 50 }, "02 32" },
    { { .opcode = DR_OP_STOP_STREAM }, "03" },
    { { .opcode = DR_OP_REQUEST_HISTORY }, "04" },
    { { .opcode = DR_OP_ACK, .arg.last_seq = 7 }, "05 07 00" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      uint8_t buf[DR_CONTROL_REQUEST_MAX_LEN];
      size_t len = 0;
      DrControlRequest out;

      assert_status (dr_control_request_encode (&examples[i].req, buf, sizeof buf, &len),
                     DR_CODEC_OK);
      assert_bytes_hex (buf, len, examples[i].hex);
      assert_status (dr_control_request_decode (buf, len, &out), DR_CODEC_OK);
      assert_requests_equal (&examples[i].req, &out);
      assert_example_in_protocol_md (examples[i].hex);
    }
}

static void
test_example_control_responses (void)
{
  const struct
  {
    DrControlResponse resp;
    const char *hex;
  } examples[] = {
    { { .request_opcode = DR_OP_ACK, .result = DR_RESULT_OK }, "80 05 00" },
    { { .request_opcode = DR_OP_REQUEST_HISTORY, .result = DR_RESULT_BUSY }, "80 04 03" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      uint8_t buf[DR_CONTROL_RESPONSE_LEN];
      size_t len = 0;
      DrControlResponse out;

      assert_status (dr_control_response_encode (&examples[i].resp, buf, sizeof buf, &len),
                     DR_CODEC_OK);
      assert_bytes_hex (buf, len, examples[i].hex);
      assert_status (dr_control_response_decode (buf, len, &out), DR_CODEC_OK);
      g_assert_cmpuint (out.request_opcode, ==, examples[i].resp.request_opcode);
      g_assert_cmpuint (out.result, ==, examples[i].resp.result);
      assert_example_in_protocol_md (examples[i].hex);
    }
}

static void
test_example_battery (void)
{
  const uint8_t buf[] = { 0x55 };
  uint8_t percent = 0;

  assert_status (dr_battery_level_decode (buf, sizeof buf, &percent), DR_CODEC_OK);
  g_assert_cmpuint (percent, ==, 85);
  assert_example_in_protocol_md ("55");
}

static void
test_example_uuids (void)
{
  const char *uuids[] = {
    DR_UUID_ROLLER_SERVICE,
    DR_UUID_ROLL_MEASUREMENT,
    DR_UUID_HEAD_INFO,
    DR_UUID_CONTROL_POINT,
    DR_UUID_STATUS,
    DR_UUID_BATTERY_SERVICE,
    DR_UUID_BATTERY_LEVEL,
    DR_UUID_DEVICE_INFO_SERVICE,
    DR_UUID_MANUFACTURER_NAME,
    DR_UUID_MODEL_NUMBER,
    DR_UUID_SERIAL_NUMBER,
    DR_UUID_FIRMWARE_REVISION,
  };
  g_autofree char *doc = load_protocol_md ();

  for (size_t i = 0; i < G_N_ELEMENTS (uuids); i++)
    {
      g_autofree char *cell = g_strdup_printf ("`%s`", uuids[i]);

      if (!strstr (doc, cell))
        g_error ("PROTOCOL.md does not list UUID %s", uuids[i]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/codec/status-names", test_status_names);

  g_test_add_func ("/codec/frame/roundtrip", test_frame_roundtrip);
  g_test_add_func ("/codec/frame/max-samples", test_frame_max_samples);
  g_test_add_func ("/codec/frame/wrap-values", test_frame_wrap_values);
  g_test_add_func ("/codec/frame/reserved-flags-kept", test_frame_reserved_flags);
  g_test_add_func ("/codec/frame/malformed/truncated", test_frame_malformed_truncated);
  g_test_add_func ("/codec/frame/malformed/short", test_frame_malformed_short);
  g_test_add_func ("/codec/frame/malformed/long", test_frame_malformed_long);
  g_test_add_func ("/codec/frame/malformed/every-length", test_frame_malformed_every_length);
  g_test_add_func ("/codec/frame/malformed/n-0", test_frame_malformed_n0);
  g_test_add_func ("/codec/frame/malformed/n-26", test_frame_malformed_n26);
  g_test_add_func ("/codec/frame/malformed/bad-version", test_frame_malformed_bad_version);
  g_test_add_func ("/codec/frame/malformed/order", test_frame_malformed_order);
  g_test_add_func ("/codec/frame/malformed/output-untouched",
                   test_frame_malformed_output_untouched);
  g_test_add_func ("/codec/frame/encode-errors", test_frame_encode_errors);
  g_test_add_func ("/codec/frame/v2/max-samples-243-bytes", test_frame_v2_max_samples);
  g_test_add_func ("/codec/frame/v2/malformed/n-24", test_frame_v2_n24);
  g_test_add_func ("/codec/frame/v2/malformed/length-mismatch", test_frame_v2_length_mismatch);
  g_test_add_func ("/codec/frame/v2/reserved-motion-bits-ignored", test_frame_v2_reserved_bits);
  g_test_add_func ("/codec/frame/v1-unchanged", test_frame_v1_unchanged);

  g_test_add_func ("/codec/head-info/roundtrip", test_head_info_roundtrip);
  g_test_add_func ("/codec/head-info/malformed", test_head_info_malformed);
  g_test_add_func ("/codec/status/roundtrip", test_status_roundtrip);
  g_test_add_func ("/codec/status/malformed", test_status_malformed);
  g_test_add_func ("/codec/control-request/roundtrip", test_control_request_roundtrip);
  g_test_add_func ("/codec/control-request/malformed", test_control_request_malformed);
  g_test_add_func ("/codec/control-request/encode-errors", test_control_request_encode_errors);
  g_test_add_func ("/codec/control-response/roundtrip", test_control_response_roundtrip);
  g_test_add_func ("/codec/control-response/malformed", test_control_response_malformed);
  g_test_add_func ("/codec/battery", test_battery);
  g_test_add_func ("/codec/frame/end-time", test_frame_end_time);
  g_test_add_func ("/codec/text-value", test_text_value);

  g_test_add_func ("/codec/examples/protocol-md-frame", test_example_frame);
  g_test_add_func ("/codec/examples/protocol-md-history-frame", test_example_history_frame);
  g_test_add_func ("/codec/examples/protocol-md-v2-frame", test_example_v2_frame);
  g_test_add_func ("/codec/examples/protocol-md-head-info", test_example_head_info);
  g_test_add_func ("/codec/examples/protocol-md-status", test_example_status);
  g_test_add_func ("/codec/examples/protocol-md-control-requests", test_example_control_requests);
  g_test_add_func ("/codec/examples/protocol-md-control-responses", test_example_control_responses);
  g_test_add_func ("/codec/examples/protocol-md-battery", test_example_battery);
  g_test_add_func ("/codec/examples/protocol-md-uuids", test_example_uuids);

  return g_test_run ();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decode-frame.c: the project's codec as a filter, for tests in other
 * languages (tests/test-roller-sim.py checks the simulator's bytes with it).
 *
 * Reads one item per line on stdin, "[KIND ]HEX" with KIND one of frame
 * (the default), head-info, status, request, response, battery; writes one
 * line of JSON per input line to stdout, flushed, so a caller can talk to
 * it line by line: {"status":"ok",...fields} or {"status":"<reason>"}.
 * Plain C, no GLib, like the codec itself.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "roller-protocol.h"

#define MAX_BYTES 512

/* Parses hex digits (spaces allowed between bytes). -1 on a bad digit or
 * an odd count. */
static long
parse_hex (const char *text, uint8_t *out, size_t cap)
{
  size_t n = 0;
  int high = -1;

  for (const char *p = text; *p != '\0'; p++)
    {
      int v;
      if (isspace ((unsigned char) *p))
        continue;
      if (!isxdigit ((unsigned char) *p))
        return -1;
      v = isdigit ((unsigned char) *p) ? *p - '0' : tolower ((unsigned char) *p) - 'a' + 10;
      if (high < 0)
        high = v;
      else
        {
          if (n == cap)
            return -1;
          out[n++] = (uint8_t) (high << 4 | v);
          high = -1;
        }
    }
  return high < 0 ? (long) n : -1;
}

static void
print_frame (const uint8_t *buf, size_t len)
{
  DrFrame frame;
  DrCodecStatus status = dr_frame_decode (buf, len, &frame);

  if (status != DR_CODEC_OK)
    {
      printf ("{\"status\":\"%s\"}\n", dr_codec_status_name (status));
      return;
    }
  printf ("{\"status\":\"ok\",\"version\":%u,\"flags\":%u,\"seq\":%u,\"t0_ms\":%" PRIu64
          ",\"samples\":[",
          frame.version, frame.flags, frame.seq, frame.t0_ms);
  for (unsigned i = 0; i < frame.n_samples; i++)
    {
      const DrSample *s = &frame.samples[i];
      printf ("%s{\"dt_ms\":%u,\"ticks\":%" PRIu32 ",\"force_mn\":%u,\"zone\":%u,"
              "\"direction\":\"%s\"}",
              i ? "," : "", s->dt_ms, s->ticks, s->force_mn, s->zone,
              dr_direction_name (DR_MOTION_DIRECTION (s->motion)));
    }
  printf ("]}\n");
}

static void
print_head_info (const uint8_t *buf, size_t len)
{
  DrHeadInfo info;
  DrCodecStatus status = dr_head_info_decode (buf, len, &info);

  if (status != DR_CODEC_OK)
    {
      printf ("{\"status\":\"%s\"}\n", dr_codec_status_name (status));
      return;
    }
  printf ("{\"status\":\"ok\",\"version\":%u,\"needle_length_um\":%u,\"needle_count\":%u,"
          "\"drum_diameter_10um\":%u,\"drum_width_10um\":%u,\"ticks_per_rev\":%u,"
          "\"head_id\":%" PRIu32 "}\n",
          info.version, info.needle_length_um, info.needle_count, info.drum_diameter_10um,
          info.drum_width_10um, info.ticks_per_rev, info.head_id);
}

static void
print_status (const uint8_t *buf, size_t len)
{
  DrStatus st;
  DrCodecStatus status = dr_status_decode (buf, len, &st);

  if (status != DR_CODEC_OK)
    {
      printf ("{\"status\":\"%s\"}\n", dr_codec_status_name (status));
      return;
    }
  printf ("{\"status\":\"ok\",\"version\":%u,\"state\":%u,\"history_frames_pending\":%u,"
          "\"flags\":%u}\n",
          st.version, st.state, st.history_frames_pending, st.flags);
}

static void
print_request (const uint8_t *buf, size_t len)
{
  DrControlRequest req;
  DrCodecStatus status = dr_control_request_decode (buf, len, &req);

  if (status != DR_CODEC_OK)
    {
      printf ("{\"status\":\"%s\"}\n", dr_codec_status_name (status));
      return;
    }
  printf ("{\"status\":\"ok\",\"opcode\":%u", req.opcode);
  if (req.opcode == DR_OP_SET_TIME)
    printf (",\"unix_ms\":%" PRIu64, req.arg.unix_ms);
  else if (req.opcode == DR_OP_START_STREAM)
    printf (",\"rate_hz\":%u", req.arg.rate_hz);
  else if (req.opcode == DR_OP_ACK)
    printf (",\"last_seq\":%u", req.arg.last_seq);
  printf ("}\n");
}

static void
print_response (const uint8_t *buf, size_t len)
{
  DrControlResponse resp;
  DrCodecStatus status = dr_control_response_decode (buf, len, &resp);

  if (status != DR_CODEC_OK)
    {
      printf ("{\"status\":\"%s\"}\n", dr_codec_status_name (status));
      return;
    }
  printf ("{\"status\":\"ok\",\"request_opcode\":%u,\"result\":%u}\n", resp.request_opcode,
          resp.result);
}

static void
print_battery (const uint8_t *buf, size_t len)
{
  uint8_t percent;
  DrCodecStatus status = dr_battery_level_decode (buf, len, &percent);

  if (status != DR_CODEC_OK)
    printf ("{\"status\":\"%s\"}\n", dr_codec_status_name (status));
  else
    printf ("{\"status\":\"ok\",\"percent\":%u}\n", percent);
}

static const struct
{
  const char *kind;
  void (*print) (const uint8_t *buf, size_t len);
} kinds[] = {
  { "frame", print_frame },     { "head-info", print_head_info }, { "status", print_status },
  { "request", print_request }, { "response", print_response },   { "battery", print_battery },
};

int
main (void)
{
  char line[4096];
  uint8_t buf[MAX_BYTES];

  while (fgets (line, sizeof line, stdin) != NULL)
    {
      char *text = line;
      void (*print) (const uint8_t *, size_t) = print_frame;
      long len;

      line[strcspn (line, "\r\n")] = '\0';
      for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        {
          size_t k = strlen (kinds[i].kind);
          if (strncmp (text, kinds[i].kind, k) == 0 && text[k] == ' ')
            {
              print = kinds[i].print;
              text += k + 1;
              break;
            }
        }
      len = parse_hex (text, buf, sizeof buf);
      if (len < 0)
        printf ("{\"status\":\"bad-hex\"}\n");
      else
        print (buf, (size_t) len);
      fflush (stdout);
    }
  return 0;
}

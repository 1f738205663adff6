/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-protocol.c: decoders and encoders for the roller's GATT items
 * (PROTOCOL.md, versions 1 and 2).
 *
 * Every function validates its whole input before it writes anything, so on
 * failure the output struct or buffer is left as it was. Byte order is done
 * with shifts rather than casts or memcpy so the code is correct on any host;
 * compilers turn these patterns into single loads and stores on little-endian
 * machines, which keeps the frame decoder on the hot path cheap.
 */
#include "roller-protocol.h"

static const char *const status_names[DR_CODEC_N_ERRORS] = {
  [DR_CODEC_OK] = "ok",
  [DR_CODEC_ERR_TRUNCATED] = "truncated",
  [DR_CODEC_ERR_LENGTH_MISMATCH] = "length-mismatch",
  [DR_CODEC_ERR_BAD_VERSION] = "bad-version",
  [DR_CODEC_ERR_NO_SAMPLES] = "no-samples",
  [DR_CODEC_ERR_TOO_MANY_SAMPLES] = "too-many-samples",
  [DR_CODEC_ERR_BUFFER_TOO_SMALL] = "buffer-too-small",
  [DR_CODEC_ERR_BAD_OPCODE] = "bad-opcode",
  [DR_CODEC_ERR_BAD_PARAMETER] = "bad-parameter",
};

const char *
dr_codec_status_name (DrCodecStatus status)
{
  /* The enum may arrive from a store or a cast int: never index blindly. */
  if ((unsigned) status >= DR_CODEC_N_ERRORS)
    return "unknown";
  return status_names[status];
}

static inline uint16_t
get_u16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (unsigned) p[1] << 8);
}

static inline uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
get_u64 (const uint8_t *p)
{
  return (uint64_t) get_u32 (p) | (uint64_t) get_u32 (p + 4) << 32;
}

static inline void
put_u16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
}

static inline void
put_u32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) (v >> 16);
  p[3] = (uint8_t) (v >> 24);
}

static inline void
put_u64 (uint8_t *p, uint64_t v)
{
  put_u32 (p, (uint32_t) v);
  put_u32 (p + 4, (uint32_t) (v >> 32));
}

/* Fixed-size items (Head Info, Status, responses, battery) are exact: a
 * longer value is not "version 1 plus extensions", it is something else. */
static inline DrCodecStatus
check_exact_len (size_t len, size_t want)
{
  if (len < want)
    return DR_CODEC_ERR_TRUNCATED;
  if (len > want)
    return DR_CODEC_ERR_LENGTH_MISMATCH;
  return DR_CODEC_OK;
}

static inline void
set_out_len (size_t *out_len, size_t len)
{
  if (out_len)
    *out_len = len;
}

/* Roll Measurement */

static const char *const direction_names[DR_N_DIRECTIONS] = {
  [DR_DIRECTION_UNKNOWN] = "unknown",
  [DR_DIRECTION_HORIZONTAL] = "horizontal",
  [DR_DIRECTION_VERTICAL] = "vertical",
  [DR_DIRECTION_DIAGONAL] = "diagonal",
};

const char *
dr_direction_name (DrDirection direction)
{
  if ((unsigned) direction >= DR_N_DIRECTIONS)
    return "unknown";
  return direction_names[direction];
}

/* The sample size of a frame version; its n limit follows from the 244-byte
 * payload of a 247 MTU (v1 keeps its historical 25). */
static DrCodecStatus
check_frame_header (uint8_t version, uint8_t n, size_t *sample_len)
{
  unsigned max_n;

  if (version == DR_PROTOCOL_VERSION)
    {
      *sample_len = DR_SAMPLE_LEN;
      max_n = DR_FRAME_MAX_SAMPLES;
    }
  else if (version == DR_PROTOCOL_VERSION_2)
    {
      *sample_len = DR_SAMPLE_V2_LEN;
      max_n = DR_FRAME_V2_MAX_SAMPLES;
    }
  else
    return DR_CODEC_ERR_BAD_VERSION;
  if (n == 0)
    return DR_CODEC_ERR_NO_SAMPLES;
  if (n > max_n)
    return DR_CODEC_ERR_TOO_MANY_SAMPLES;
  return DR_CODEC_OK;
}

DrCodecStatus
dr_frame_decode (const uint8_t *buf, size_t len, DrFrame *out)
{
  DrCodecStatus st;
  const uint8_t *p;
  size_t sample_len;
  unsigned n;

  if (len < DR_FRAME_HEADER_LEN)
    return DR_CODEC_ERR_TRUNCATED;
  n = buf[12];
  st = check_frame_header (buf[0], (uint8_t) n, &sample_len);
  if (st != DR_CODEC_OK)
    return st;
  if (len != DR_FRAME_HEADER_LEN + sample_len * n)
    return DR_CODEC_ERR_LENGTH_MISMATCH;

  out->version = buf[0];
  out->flags = buf[1];
  out->seq = get_u16 (buf + 2);
  out->t0_ms = get_u64 (buf + 4);
  out->n_samples = (uint8_t) n;

  p = buf + DR_FRAME_HEADER_LEN;
  for (unsigned i = 0; i < n; i++, p += sample_len)
    {
      DrSample *s = &out->samples[i];

      s->dt_ms = get_u16 (p);
      s->ticks = get_u32 (p + 2);
      s->force_mn = get_u16 (p + 6);
      s->zone = p[8];
      s->motion = sample_len == DR_SAMPLE_V2_LEN ? p[9] : 0;
    }
  return DR_CODEC_OK;
}

uint64_t
dr_frame_end_ms (const DrFrame *frame)
{
  uint64_t t = frame->t0_ms;
  unsigned n = frame->n_samples <= DR_FRAME_MAX_SAMPLES ? frame->n_samples : DR_FRAME_MAX_SAMPLES;

  for (unsigned i = 1; i < n; i++)
    t += frame->samples[i].dt_ms;
  return t;
}

DrCodecStatus
dr_frame_encode (const DrFrame *frame, uint8_t *buf, size_t cap, size_t *out_len)
{
  DrCodecStatus st;
  uint8_t *p;
  size_t len, sample_len;
  unsigned n = frame->n_samples;

  st = check_frame_header (frame->version, frame->n_samples, &sample_len);
  if (st != DR_CODEC_OK)
    return st;
  len = DR_FRAME_HEADER_LEN + sample_len * n;
  if (cap < len)
    return DR_CODEC_ERR_BUFFER_TOO_SMALL;

  buf[0] = frame->version;
  buf[1] = frame->flags;
  put_u16 (buf + 2, frame->seq);
  put_u64 (buf + 4, frame->t0_ms);
  buf[12] = (uint8_t) n;

  p = buf + DR_FRAME_HEADER_LEN;
  for (unsigned i = 0; i < n; i++, p += sample_len)
    {
      const DrSample *s = &frame->samples[i];

      put_u16 (p, s->dt_ms);
      put_u32 (p + 2, s->ticks);
      put_u16 (p + 6, s->force_mn);
      p[8] = s->zone;
      if (sample_len == DR_SAMPLE_V2_LEN)
        p[9] = s->motion;
    }
  set_out_len (out_len, len);
  return DR_CODEC_OK;
}

/* Head Info */

DrCodecStatus
dr_head_info_decode (const uint8_t *buf, size_t len, DrHeadInfo *out)
{
  DrCodecStatus st = check_exact_len (len, DR_HEAD_INFO_LEN);

  if (st != DR_CODEC_OK)
    return st;
  if (buf[0] != DR_PROTOCOL_VERSION)
    return DR_CODEC_ERR_BAD_VERSION;

  out->version = buf[0];
  out->needle_length_um = get_u16 (buf + 1);
  out->needle_count = get_u16 (buf + 3);
  out->drum_diameter_10um = get_u16 (buf + 5);
  out->drum_width_10um = get_u16 (buf + 7);
  out->ticks_per_rev = get_u16 (buf + 9);
  out->head_id = get_u32 (buf + 11);
  return DR_CODEC_OK;
}

DrCodecStatus
dr_head_info_encode (const DrHeadInfo *info, uint8_t *buf, size_t cap, size_t *out_len)
{
  if (info->version != DR_PROTOCOL_VERSION)
    return DR_CODEC_ERR_BAD_VERSION;
  if (cap < DR_HEAD_INFO_LEN)
    return DR_CODEC_ERR_BUFFER_TOO_SMALL;

  buf[0] = info->version;
  put_u16 (buf + 1, info->needle_length_um);
  put_u16 (buf + 3, info->needle_count);
  put_u16 (buf + 5, info->drum_diameter_10um);
  put_u16 (buf + 7, info->drum_width_10um);
  put_u16 (buf + 9, info->ticks_per_rev);
  put_u32 (buf + 11, info->head_id);
  set_out_len (out_len, DR_HEAD_INFO_LEN);
  return DR_CODEC_OK;
}

/* Status */

static DrCodecStatus
check_status (uint8_t version, uint8_t state)
{
  if (version != DR_PROTOCOL_VERSION)
    return DR_CODEC_ERR_BAD_VERSION;
  if (state > DR_ROLLER_STATE_FAULT)
    return DR_CODEC_ERR_BAD_PARAMETER;
  return DR_CODEC_OK;
}

DrCodecStatus
dr_status_decode (const uint8_t *buf, size_t len, DrStatus *out)
{
  DrCodecStatus st = check_exact_len (len, DR_STATUS_LEN);

  if (st != DR_CODEC_OK)
    return st;
  st = check_status (buf[0], buf[1]);
  if (st != DR_CODEC_OK)
    return st;

  out->version = buf[0];
  out->state = buf[1];
  out->history_frames_pending = get_u16 (buf + 2);
  out->flags = buf[4];
  return DR_CODEC_OK;
}

DrCodecStatus
dr_status_encode (const DrStatus *status, uint8_t *buf, size_t cap, size_t *out_len)
{
  DrCodecStatus st = check_status (status->version, status->state);

  if (st != DR_CODEC_OK)
    return st;
  if (cap < DR_STATUS_LEN)
    return DR_CODEC_ERR_BUFFER_TOO_SMALL;

  buf[0] = status->version;
  buf[1] = status->state;
  put_u16 (buf + 2, status->history_frames_pending);
  buf[4] = status->flags;
  set_out_len (out_len, DR_STATUS_LEN);
  return DR_CODEC_OK;
}

/* Control Point */

/* Exact request length per opcode, 0 for anything that is not a request
 * (DR_OP_RESPONSE included: the roller sends it, the daemon never does). */
static size_t
request_len (uint8_t opcode)
{
  switch (opcode)
    {
      case DR_OP_SET_TIME:
        return 9;
      case DR_OP_START_STREAM:
        return 2;
      case DR_OP_STOP_STREAM:
      case DR_OP_REQUEST_HISTORY:
        return 1;
      case DR_OP_ACK:
        return 3;
      default:
        return 0;
    }
}

DrCodecStatus
dr_control_request_decode (const uint8_t *buf, size_t len, DrControlRequest *out)
{
  DrControlRequest req = { 0 };
  DrCodecStatus st;
  size_t want;

  if (len < 1)
    return DR_CODEC_ERR_TRUNCATED;
  want = request_len (buf[0]);
  if (want == 0)
    return DR_CODEC_ERR_BAD_OPCODE;
  st = check_exact_len (len, want);
  if (st != DR_CODEC_OK)
    return st;

  req.opcode = buf[0];
  switch (buf[0])
    {
      case DR_OP_SET_TIME:
        req.arg.unix_ms = get_u64 (buf + 1);
        break;
      case DR_OP_START_STREAM:
        req.arg.rate_hz = buf[1];
        break;
      case DR_OP_ACK:
        req.arg.last_seq = get_u16 (buf + 1);
        break;
      default:
        break;
    }
  *out = req;
  return DR_CODEC_OK;
}

DrCodecStatus
dr_control_request_encode (const DrControlRequest *req, uint8_t *buf, size_t cap, size_t *out_len)
{
  size_t want = request_len (req->opcode);

  if (want == 0)
    return DR_CODEC_ERR_BAD_OPCODE;
  if (cap < want)
    return DR_CODEC_ERR_BUFFER_TOO_SMALL;

  buf[0] = req->opcode;
  switch (req->opcode)
    {
      case DR_OP_SET_TIME:
        put_u64 (buf + 1, req->arg.unix_ms);
        break;
      case DR_OP_START_STREAM:
        buf[1] = req->arg.rate_hz;
        break;
      case DR_OP_ACK:
        put_u16 (buf + 1, req->arg.last_seq);
        break;
      default:
        break;
    }
  set_out_len (out_len, want);
  return DR_CODEC_OK;
}

/* The request opcode in a response is not checked: the roller echoes
 * whatever it was sent, including opcodes it answers with UNSUPPORTED. */
DrCodecStatus
dr_control_response_decode (const uint8_t *buf, size_t len, DrControlResponse *out)
{
  DrCodecStatus st = check_exact_len (len, DR_CONTROL_RESPONSE_LEN);

  if (st != DR_CODEC_OK)
    return st;
  if (buf[0] != DR_OP_RESPONSE)
    return DR_CODEC_ERR_BAD_OPCODE;
  if (buf[2] > DR_RESULT_BUSY)
    return DR_CODEC_ERR_BAD_PARAMETER;

  out->request_opcode = buf[1];
  out->result = buf[2];
  return DR_CODEC_OK;
}

DrCodecStatus
dr_control_response_encode (const DrControlResponse *resp, uint8_t *buf, size_t cap,
                            size_t *out_len)
{
  if (resp->result > DR_RESULT_BUSY)
    return DR_CODEC_ERR_BAD_PARAMETER;
  if (cap < DR_CONTROL_RESPONSE_LEN)
    return DR_CODEC_ERR_BUFFER_TOO_SMALL;

  buf[0] = DR_OP_RESPONSE;
  buf[1] = resp->request_opcode;
  buf[2] = resp->result;
  set_out_len (out_len, DR_CONTROL_RESPONSE_LEN);
  return DR_CODEC_OK;
}

/* Battery Level */

DrCodecStatus
dr_battery_level_decode (const uint8_t *buf, size_t len, uint8_t *percent)
{
  DrCodecStatus st = check_exact_len (len, 1);

  if (st != DR_CODEC_OK)
    return st;
  if (buf[0] > 100)
    return DR_CODEC_ERR_BAD_PARAMETER;

  *percent = buf[0];
  return DR_CODEC_OK;
}

/* Text values */

size_t
dr_text_value_len (const uint8_t *buf, size_t len)
{
  size_t n = 0;

  if (buf == NULL)
    return 0;
  while (n < len && n < DR_TEXT_VALUE_MAX_LEN && buf[n] != '\0')
    n++;
  /* Cut at the bound: step back over the start of a sequence the cut would
   * split (a sequence is at most 4 bytes; longer runs are invalid anyway). */
  if (n == DR_TEXT_VALUE_MAX_LEN && n < len && buf[n] != '\0')
    for (unsigned back = 0; back < 3 && (buf[n] & 0xC0) == 0x80; back++)
      n--;
  return n;
}

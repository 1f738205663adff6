/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-protocol.h: the smart roller's GATT wire format (PROTOCOL.md,
 * versions 1 and 2; 2 differs only in the Roll Measurement sample).
 *
 * Decoders and encoders for every characteristic. Plain C99: no GLib, no heap,
 * no global state, so the same code runs in the daemon, the emulator, the
 * fuzzer and the benchmarks. Every decoder validates completely and returns a
 * reason; nothing here can read or write past the buffer it is given.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* UUIDs: vendor base d3a7XXXX-6b1c-4f5e-9a21-0c8e5f3b7a10 */
#define DR_UUID_ROLLER_SERVICE "d3a70001-6b1c-4f5e-9a21-0c8e5f3b7a10"
#define DR_UUID_ROLL_MEASUREMENT "d3a70002-6b1c-4f5e-9a21-0c8e5f3b7a10"
#define DR_UUID_HEAD_INFO "d3a70003-6b1c-4f5e-9a21-0c8e5f3b7a10"
#define DR_UUID_CONTROL_POINT "d3a70004-6b1c-4f5e-9a21-0c8e5f3b7a10"
#define DR_UUID_STATUS "d3a70005-6b1c-4f5e-9a21-0c8e5f3b7a10"
#define DR_UUID_BATTERY_SERVICE "0000180f-0000-1000-8000-00805f9b34fb"
#define DR_UUID_BATTERY_LEVEL "00002a19-0000-1000-8000-00805f9b34fb"
#define DR_UUID_DEVICE_INFO_SERVICE "0000180a-0000-1000-8000-00805f9b34fb"
#define DR_UUID_MANUFACTURER_NAME "00002a29-0000-1000-8000-00805f9b34fb"
#define DR_UUID_MODEL_NUMBER "00002a24-0000-1000-8000-00805f9b34fb"
#define DR_UUID_SERIAL_NUMBER "00002a25-0000-1000-8000-00805f9b34fb"
#define DR_UUID_FIRMWARE_REVISION "00002a26-0000-1000-8000-00805f9b34fb"

#define DR_PROTOCOL_VERSION 1
/* Roll Measurement only: samples carry a motion byte (stroke direction). */
#define DR_PROTOCOL_VERSION_2 2

/* Roll Measurement frame */
#define DR_FRAME_HEADER_LEN 13
#define DR_SAMPLE_LEN 9
#define DR_FRAME_MAX_SAMPLES 25
#define DR_FRAME_V1_MAX_LEN (DR_FRAME_HEADER_LEN + DR_SAMPLE_LEN * DR_FRAME_MAX_SAMPLES)
#define DR_SAMPLE_V2_LEN 10
#define DR_FRAME_V2_MAX_SAMPLES 23
#define DR_FRAME_V2_MAX_LEN (DR_FRAME_HEADER_LEN + DR_SAMPLE_V2_LEN * DR_FRAME_V2_MAX_SAMPLES)
/* The longest frame of any version (a v2 frame of 23 samples, 243 bytes). */
#define DR_FRAME_MAX_LEN DR_FRAME_V2_MAX_LEN

#define DR_FRAME_FLAG_HISTORY 0x01u
#define DR_FRAME_FLAG_CLOCK_UNSYNCED 0x02u

#define DR_FORCE_SENSOR_FAULT 0xFFFFu
#define DR_ZONE_UNKNOWN 0xFFu

/* Version 2 sample motion byte: bits 0-1 the stroke direction, bits 2-7
 * reserved (kept as received, ignored by every reader). */
#define DR_MOTION_DIRECTION_MASK 0x03u
#define DR_MOTION_DIRECTION(motion) ((DrDirection) ((motion) &DR_MOTION_DIRECTION_MASK))

#define DR_HEAD_INFO_LEN 15
#define DR_STATUS_LEN 5
#define DR_CONTROL_RESPONSE_LEN 3
#define DR_CONTROL_REQUEST_MAX_LEN 9

  typedef enum
  {
    DR_CODEC_OK = 0,
    DR_CODEC_ERR_TRUNCATED,        /* shorter than the fixed header / item size */
    DR_CODEC_ERR_LENGTH_MISMATCH,  /* frame length is not 13 + 9·n (v2: 13 + 10·n) */
    DR_CODEC_ERR_BAD_VERSION,      /* version byte is not 1 (frames: not 1 or 2) */
    DR_CODEC_ERR_NO_SAMPLES,       /* n == 0 */
    DR_CODEC_ERR_TOO_MANY_SAMPLES, /* n > 25 (v2: n > 23) */
    DR_CODEC_ERR_BUFFER_TOO_SMALL, /* encoder: output buffer too small */
    DR_CODEC_ERR_BAD_OPCODE,       /* control point: unknown opcode */
    DR_CODEC_ERR_BAD_PARAMETER,    /* control point / status: parameter out of range */
    DR_CODEC_N_ERRORS
  } DrCodecStatus;

  /* A short, stable, machine-readable name ("length-mismatch"), used in logs,
   * the store's malformed-frame counts and D-Bus error messages. */
  const char *dr_codec_status_name (DrCodecStatus status);

  typedef enum
  {
    DR_DIRECTION_UNKNOWN = 0, /* and every version 1 sample */
    DR_DIRECTION_HORIZONTAL = 1,
    DR_DIRECTION_VERTICAL = 2,
    DR_DIRECTION_DIAGONAL = 3,
    DR_N_DIRECTIONS
  } DrDirection;

  /* "unknown", "horizontal", "vertical", "diagonal" (D-Bus, JSON, logs). */
  const char *dr_direction_name (DrDirection direction);

  typedef struct
  {
    uint16_t dt_ms;    /* since the previous sample; 0 for the first */
    uint32_t ticks;    /* cumulative drum encoder ticks, wraps at 2^32 */
    uint16_t force_mn; /* millinewtons; DR_FORCE_SENSOR_FAULT = no reading */
    uint8_t zone;      /* 0..6 by the roller's motion sensor; DR_ZONE_UNKNOWN */
    uint8_t motion;    /* version 2 only (0 in version 1): DR_MOTION_DIRECTION () */
  } DrSample;

  typedef struct
  {
    uint8_t version;
    uint8_t flags;
    uint16_t seq;
    uint64_t t0_ms;
    uint8_t n_samples;
    DrSample samples[DR_FRAME_MAX_SAMPLES];
  } DrFrame;

  DrCodecStatus dr_frame_decode (const uint8_t *buf, size_t len, DrFrame *out);
  /* The time of the frame's last sample: t0 plus every dt after the first,
   * in unsigned arithmetic, so any t0 the air carries gives an answer (it
   * wraps at 2^64 instead of overflowing a signed sum). */
  uint64_t dr_frame_end_ms (const DrFrame *frame);
  /* Version 1 or 2 by frame->version. Writes 13 + 9·n bytes (v2: 13 + 10·n,
   * with each sample's motion byte as given); validates n and version as
   * the decoder does. */
  DrCodecStatus dr_frame_encode (const DrFrame *frame, uint8_t *buf, size_t cap, size_t *out_len);

  typedef struct
  {
    uint8_t version;
    uint16_t needle_length_um;
    uint16_t needle_count;
    uint16_t drum_diameter_10um;
    uint16_t drum_width_10um;
    uint16_t ticks_per_rev;
    uint32_t head_id;
  } DrHeadInfo;

  DrCodecStatus dr_head_info_decode (const uint8_t *buf, size_t len, DrHeadInfo *out);
  DrCodecStatus dr_head_info_encode (const DrHeadInfo *info, uint8_t *buf, size_t cap,
                                     size_t *out_len);

  typedef enum
  {
    DR_ROLLER_STATE_IDLE = 0,
    DR_ROLLER_STATE_ROLLING = 1,
    DR_ROLLER_STATE_CHARGING = 2,
    DR_ROLLER_STATE_FAULT = 3,
  } DrRollerState;

#define DR_STATUS_FLAG_HEAD_DETACHED 0x01u

  typedef struct
  {
    uint8_t version;
    uint8_t state; /* DrRollerState; values above 3 are rejected */
    uint16_t history_frames_pending;
    uint8_t flags;
  } DrStatus;

  DrCodecStatus dr_status_decode (const uint8_t *buf, size_t len, DrStatus *out);
  DrCodecStatus dr_status_encode (const DrStatus *status, uint8_t *buf, size_t cap,
                                  size_t *out_len);

  typedef enum
  {
    DR_OP_SET_TIME = 0x01,
    DR_OP_START_STREAM = 0x02,
    DR_OP_STOP_STREAM = 0x03,
    DR_OP_REQUEST_HISTORY = 0x04,
    DR_OP_ACK = 0x05,
    DR_OP_RESPONSE = 0x80,
  } DrOpcode;

  typedef enum
  {
    DR_RESULT_OK = 0,
    DR_RESULT_UNSUPPORTED = 1,
    DR_RESULT_INVALID_PARAMETER = 2,
    DR_RESULT_BUSY = 3,
  } DrControlResult;

  typedef struct
  {
    uint8_t opcode; /* DrOpcode, not DR_OP_RESPONSE */
    union
    {
      uint64_t unix_ms;  /* SET_TIME */
      uint8_t rate_hz;   /* START_STREAM */
      uint16_t last_seq; /* ACK */
    } arg;
  } DrControlRequest;

  /* Request lengths: SET_TIME 9, START_STREAM 2, STOP_STREAM 1, REQUEST_HISTORY 1, ACK 3. */
  DrCodecStatus dr_control_request_decode (const uint8_t *buf, size_t len, DrControlRequest *out);
  DrCodecStatus dr_control_request_encode (const DrControlRequest *req, uint8_t *buf, size_t cap,
                                           size_t *out_len);

  typedef struct
  {
    uint8_t request_opcode;
    uint8_t result; /* DrControlResult */
  } DrControlResponse;

  DrCodecStatus dr_control_response_decode (const uint8_t *buf, size_t len, DrControlResponse *out);
  DrCodecStatus dr_control_response_encode (const DrControlResponse *resp, uint8_t *buf, size_t cap,
                                            size_t *out_len);

  /* Battery Level (0x2A19): one byte, 0..100. */
  DrCodecStatus dr_battery_level_decode (const uint8_t *buf, size_t len, uint8_t *percent);

/* The longest attribute value ATT allows (Core 5.3, Vol 3, Part F, 3.2.9). */
#define DR_TEXT_VALUE_MAX_LEN 512

  /* How many bytes of a text value (Device Information strings) to keep: up
   * to the first NUL (values are often NUL-padded), at most
   * DR_TEXT_VALUE_MAX_LEN, and when cut at that bound, never inside a UTF-8
   * sequence. The bytes kept may still be invalid UTF-8. */
  size_t dr_text_value_len (const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

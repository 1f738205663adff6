/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-geometry.c: the face map's drawing model and its path walker (see
 * face-geometry.h). */
#include "face-geometry.h"

#include <gio/gio.h>

/* The person's right cheek is on the picture's left (front view). */
const DrFaceZoneShape dr_face_zone_shapes[DR_N_FACE_ZONES] = {
  /* forehead */
  { "M 80 90 H 500 V 250 C 420 262 360 254 290 254 C 220 254 160 262 80 250 Z", 290, 205, 175, 232,
    385, 200, FALSE, TRUE },
  /* left-cheek */
  { "M 500 322 H 318 C 324 345 332 372 334 392 C 344 410 354 432 360 462 "
    "C 365 495 380 530 395 560 L 500 560 Z",
    410, 418, 410, 350, 410, 382, FALSE, TRUE },
  /* right-cheek */
  { "M 80 322 H 262 C 256 345 248 372 246 392 C 236 410 226 432 220 462 "
    "C 215 495 200 530 185 560 L 80 560 Z",
    170, 418, 170, 350, 170, 382, FALSE, TRUE },
  /* nose */
  { "M 272 262 C 270 296 264 326 254 356 C 244 378 252 392 272 392 L 308 392 "
    "C 328 392 336 378 326 356 C 316 326 310 296 308 262 Z",
    290, 332, 290, 296, 290, 274, TRUE, TRUE },
  /* upper-lip */
  { "M 220 462 C 228 424 252 396 272 392 L 308 392 C 328 396 352 424 360 462 "
    "C 334 454 310 456 290 460 C 270 456 246 454 220 462 Z",
    290, 418, 246, 446, 338, 450, TRUE, TRUE },
  /* chin */
  { "M 185 560 C 205 527 216 505 224 488 C 250 500 330 500 356 488 "
    "C 364 505 375 527 395 560 L 395 640 L 185 640 Z",
    290, 525, 290, 575, 236, 528, FALSE, TRUE },
  /* neck: not clipped, it goes on below the face */
  { "M 212 500 L 368 500 L 372 660 C 376 700 400 715 430 728 L 150 728 "
    "C 180 715 204 700 208 660 Z",
    290, 655, 235, 700, 345, 700, FALSE, FALSE },
};

const DrFacePart dr_face_parts[] = {
  { DR_FACE_PART_SHOULDERS,
    "M 50 770 C 60 744 110 726 190 722 L 390 722 C 470 726 520 744 530 770 Z" },
  { DR_FACE_PART_EAR, NULL, 110, 345, 20, 44 },
  { DR_FACE_PART_EAR, NULL, 470, 345, 20, 44 },
  { DR_FACE_PART_EYE, "M 183 294 C 200 278 232 278 247 294 C 232 308 200 308 183 294 Z" },
  { DR_FACE_PART_EYE, "M 333 294 C 348 278 380 278 397 294 C 380 308 348 308 333 294 Z" },
  { DR_FACE_PART_PUPIL, NULL, 215, 293, 8, 8 },
  { DR_FACE_PART_PUPIL, NULL, 365, 293, 8, 8 },
  { DR_FACE_PART_BROW, "M 178 272 C 198 260 228 258 252 266" },
  { DR_FACE_PART_BROW, "M 328 266 C 352 258 382 260 402 272" },
  { DR_FACE_PART_NOSTRIL, "M 266 400 C 270 406 276 407 280 404" },
  { DR_FACE_PART_NOSTRIL, "M 314 400 C 310 406 304 407 300 404" },
  { DR_FACE_PART_MOUTH, "M 238 472 C 260 458 280 462 290 466 C 300 462 320 458 342 472 "
                        "C 322 492 258 492 238 472 Z" },
  { DR_FACE_PART_LIP_LINE, "M 240 472 C 270 476 310 476 340 472" },
  /* over the top of the head, the hairline above the forehead */
  { DR_FACE_PART_HAIR, "M 104 336 C 92 170 178 84 290 84 C 402 84 488 170 476 336 "
                       "C 468 270 452 226 418 202 C 380 180 340 174 290 174 "
                       "C 240 174 200 180 162 202 C 128 226 112 270 104 336 Z" },
};

const gsize dr_face_n_parts = G_N_ELEMENTS (dr_face_parts);

const DrFacePartStyle *
dr_face_part_style (DrFacePartKind kind)
{
  static const DrFacePartStyle styles[] = {
    [DR_FACE_PART_SHOULDERS] = { "#dfe3e8", DR_FACE_SKIN_LINE, 1.5, FALSE },
    [DR_FACE_PART_EAR] = { DR_FACE_SKIN, DR_FACE_SKIN_LINE, 2, FALSE },
    [DR_FACE_PART_EYE] = { "#ffffff", DR_FACE_SKIN_LINE, 2, FALSE },
    [DR_FACE_PART_PUPIL] = { "#6b5a4e", NULL, 0, FALSE },
    [DR_FACE_PART_BROW] = { NULL, DR_FACE_HAIR, 5, TRUE },
    [DR_FACE_PART_NOSTRIL] = { NULL, DR_FACE_SKIN_LINE, 1.5, TRUE },
    [DR_FACE_PART_MOUTH] = { "#e8cfc6", DR_FACE_SKIN_LINE, 2, FALSE },
    [DR_FACE_PART_LIP_LINE] = { NULL, DR_FACE_SKIN_LINE, 1.5, FALSE },
    [DR_FACE_PART_HAIR] = { DR_FACE_HAIR, NULL, 0, FALSE },
  };

  g_return_val_if_fail ((gsize) kind < G_N_ELEMENTS (styles), &styles[0]);
  return &styles[kind];
}

void
dr_face_path_iter_init (DrFacePathIter *iter, const char *path)
{
  *iter = (DrFacePathIter){ .p = path };
}

static gboolean
read_numbers (DrFacePathIter *iter, double *out, int n, GError **error)
{
  for (int i = 0; i < n; i++)
    {
      char *end = NULL;

      while (*iter->p == ' ')
        iter->p++;
      out[i] = g_ascii_strtod (iter->p, &end);
      if (end == iter->p)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "face path: a number expected at “%.12s”", iter->p);
          return FALSE;
        }
      iter->p = end;
    }
  return TRUE;
}

gboolean
dr_face_path_iter_next (DrFacePathIter *iter, DrFacePathOp *op, double pts[6], GError **error)
{
  char command;

  while (*iter->p == ' ')
    iter->p++;
  command = *iter->p;
  if (command == '\0')
    return FALSE;
  iter->p++;
  switch (command)
    {
      case 'M':
      case 'L':
        if (!read_numbers (iter, pts, 2, error))
          return FALSE;
        *op = command == 'M' ? DR_FACE_PATH_MOVE : DR_FACE_PATH_LINE;
        if (command == 'M')
          iter->start_x = pts[0], iter->start_y = pts[1];
        break;
      case 'H':
        if (!read_numbers (iter, pts, 1, error))
          return FALSE;
        pts[1] = iter->y;
        *op = DR_FACE_PATH_LINE;
        break;
      case 'V':
        if (!read_numbers (iter, pts + 1, 1, error))
          return FALSE;
        pts[0] = iter->x;
        *op = DR_FACE_PATH_LINE;
        break;
      case 'C':
        if (!read_numbers (iter, pts, 6, error))
          return FALSE;
        *op = DR_FACE_PATH_CURVE;
        iter->x = pts[4], iter->y = pts[5];
        return TRUE;
      case 'Z':
        *op = DR_FACE_PATH_CLOSE;
        pts[0] = iter->x = iter->start_x;
        pts[1] = iter->y = iter->start_y;
        return TRUE;
      default:
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "face path: unknown command “%c”",
                     command);
        return FALSE;
    }
  iter->x = pts[0], iter->y = pts[1];
  return TRUE;
}

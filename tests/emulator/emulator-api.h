/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* emulator-api.h: org.dermaroll.Emulator1, the fault-injection and
 * statistics interface. It is served on a control connection of its own,
 * which survives emulated bluetoothd restarts, and on the org.bluez
 * connection too (fake_bluez_bring_up registers emu->api_vtable there). */
#pragma once

#include "fake-bluez.h"

/* Fills emu->api_info and emu->api_vtable. */
void emulator_api_init (Emu *emu);

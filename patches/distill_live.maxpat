{
  "patcher": {
    "fileversion": 1,
    "appversion": {
      "major": 8,
      "minor": 5,
      "revision": 0,
      "architecture": "x64",
      "modernui": 1
    },
    "classnamespace": "box",
    "rect": [
      60.0,
      80.0,
      760.0,
      700.0
    ],
    "bglocked": 0,
    "openinpresentation": 0,
    "default_fontsize": 12.0,
    "gridsize": [
      15.0,
      15.0
    ],
    "boxes": [
      {
        "box": {
          "id": "obj-1",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            10,
            640,
            20
          ],
          "text": "distill_live: OSC to 127.0.0.1:9000, replies on 9001 (distill-live play --osc-reply-port 9001)"
        }
      },
      {
        "box": {
          "id": "obj-2",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            520,
            50,
            160,
            22
          ],
          "text": "udpsend 127.0.0.1 9000"
        }
      },
      {
        "box": {
          "id": "obj-3",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            50.0,
            200,
            20
          ],
          "text": "temperature (0.1..2 )"
        }
      },
      {
        "box": {
          "id": "obj-4",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            72.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": 0.1,
          "size": 1.9,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-5",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            72.0,
            200,
            22
          ],
          "text": "prepend /distill/temperature",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-6",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            110.0,
            200,
            20
          ],
          "text": "top_k (0..512 codes)"
        }
      },
      {
        "box": {
          "id": "obj-7",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            132.0,
            200,
            20
          ],
          "floatoutput": 0,
          "min": 0,
          "size": 513,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-8",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            132.0,
            200,
            22
          ],
          "text": "prepend /distill/top_k",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-9",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            170.0,
            200,
            20
          ],
          "text": "top_p (0..1 )"
        }
      },
      {
        "box": {
          "id": "obj-10",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            192.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": 0.0,
          "size": 1.0,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-11",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            192.0,
            200,
            22
          ],
          "text": "prepend /distill/top_p",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-12",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            230.0,
            200,
            20
          ],
          "text": "seed (0..2147483647 )"
        }
      },
      {
        "box": {
          "id": "obj-13",
          "maxclass": "number",
          "numinlets": 1,
          "numoutlets": 2,
          "patching_rect": [
            20,
            252.0,
            100,
            22
          ],
          "minimum": 0,
          "maximum": 2147483647,
          "outlettype": [
            "",
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-14",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            252.0,
            200,
            22
          ],
          "text": "prepend /distill/seed",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-15",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            290.0,
            200,
            20
          ],
          "text": "gain (-60..12 dB)"
        }
      },
      {
        "box": {
          "id": "obj-16",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            312.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": -60.0,
          "size": 72.0,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-17",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            312.0,
            200,
            22
          ],
          "text": "prepend /distill/gain",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-18",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            350.0,
            200,
            20
          ],
          "text": "width (0..2 )"
        }
      },
      {
        "box": {
          "id": "obj-19",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            372.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": 0.0,
          "size": 2.0,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-20",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            372.0,
            200,
            22
          ],
          "text": "prepend /distill/width",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-21",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            410.0,
            200,
            20
          ],
          "text": "transpose (-24..24 semitones)"
        }
      },
      {
        "box": {
          "id": "obj-22",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            432.0,
            200,
            20
          ],
          "floatoutput": 0,
          "min": -24,
          "size": 49,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-23",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            432.0,
            200,
            22
          ],
          "text": "prepend /distill/transpose",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-24",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            470.0,
            200,
            20
          ],
          "text": "scale (off, C chromatic, ..., B whole tone (121 choices) )"
        }
      },
      {
        "box": {
          "id": "obj-25",
          "maxclass": "umenu",
          "numinlets": 1,
          "numoutlets": 3,
          "patching_rect": [
            20,
            492.0,
            200,
            22
          ],
          "items": [
            "off",
            ",",
            "C chromatic",
            ",",
            "C major",
            ",",
            "C minor",
            ",",
            "C harmonic minor",
            ",",
            "C dorian",
            ",",
            "C mixolydian",
            ",",
            "C pentatonic",
            ",",
            "C minor pentatonic",
            ",",
            "C blues",
            ",",
            "C whole tone",
            ",",
            "C# chromatic",
            ",",
            "C# major",
            ",",
            "C# minor",
            ",",
            "C# harmonic minor",
            ",",
            "C# dorian",
            ",",
            "C# mixolydian",
            ",",
            "C# pentatonic",
            ",",
            "C# minor pentatonic",
            ",",
            "C# blues",
            ",",
            "C# whole tone",
            ",",
            "D chromatic",
            ",",
            "D major",
            ",",
            "D minor",
            ",",
            "D harmonic minor",
            ",",
            "D dorian",
            ",",
            "D mixolydian",
            ",",
            "D pentatonic",
            ",",
            "D minor pentatonic",
            ",",
            "D blues",
            ",",
            "D whole tone",
            ",",
            "D# chromatic",
            ",",
            "D# major",
            ",",
            "D# minor",
            ",",
            "D# harmonic minor",
            ",",
            "D# dorian",
            ",",
            "D# mixolydian",
            ",",
            "D# pentatonic",
            ",",
            "D# minor pentatonic",
            ",",
            "D# blues",
            ",",
            "D# whole tone",
            ",",
            "E chromatic",
            ",",
            "E major",
            ",",
            "E minor",
            ",",
            "E harmonic minor",
            ",",
            "E dorian",
            ",",
            "E mixolydian",
            ",",
            "E pentatonic",
            ",",
            "E minor pentatonic",
            ",",
            "E blues",
            ",",
            "E whole tone",
            ",",
            "F chromatic",
            ",",
            "F major",
            ",",
            "F minor",
            ",",
            "F harmonic minor",
            ",",
            "F dorian",
            ",",
            "F mixolydian",
            ",",
            "F pentatonic",
            ",",
            "F minor pentatonic",
            ",",
            "F blues",
            ",",
            "F whole tone",
            ",",
            "F# chromatic",
            ",",
            "F# major",
            ",",
            "F# minor",
            ",",
            "F# harmonic minor",
            ",",
            "F# dorian",
            ",",
            "F# mixolydian",
            ",",
            "F# pentatonic",
            ",",
            "F# minor pentatonic",
            ",",
            "F# blues",
            ",",
            "F# whole tone",
            ",",
            "G chromatic",
            ",",
            "G major",
            ",",
            "G minor",
            ",",
            "G harmonic minor",
            ",",
            "G dorian",
            ",",
            "G mixolydian",
            ",",
            "G pentatonic",
            ",",
            "G minor pentatonic",
            ",",
            "G blues",
            ",",
            "G whole tone",
            ",",
            "G# chromatic",
            ",",
            "G# major",
            ",",
            "G# minor",
            ",",
            "G# harmonic minor",
            ",",
            "G# dorian",
            ",",
            "G# mixolydian",
            ",",
            "G# pentatonic",
            ",",
            "G# minor pentatonic",
            ",",
            "G# blues",
            ",",
            "G# whole tone",
            ",",
            "A chromatic",
            ",",
            "A major",
            ",",
            "A minor",
            ",",
            "A harmonic minor",
            ",",
            "A dorian",
            ",",
            "A mixolydian",
            ",",
            "A pentatonic",
            ",",
            "A minor pentatonic",
            ",",
            "A blues",
            ",",
            "A whole tone",
            ",",
            "A# chromatic",
            ",",
            "A# major",
            ",",
            "A# minor",
            ",",
            "A# harmonic minor",
            ",",
            "A# dorian",
            ",",
            "A# mixolydian",
            ",",
            "A# pentatonic",
            ",",
            "A# minor pentatonic",
            ",",
            "A# blues",
            ",",
            "A# whole tone",
            ",",
            "B chromatic",
            ",",
            "B major",
            ",",
            "B minor",
            ",",
            "B harmonic minor",
            ",",
            "B dorian",
            ",",
            "B mixolydian",
            ",",
            "B pentatonic",
            ",",
            "B minor pentatonic",
            ",",
            "B blues",
            ",",
            "B whole tone"
          ],
          "outlettype": [
            "int",
            "",
            ""
          ],
          "parameter_enable": 0
        }
      },
      {
        "box": {
          "id": "obj-26",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            492.0,
            200,
            22
          ],
          "text": "prepend /distill/scale",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-27",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            530.0,
            200,
            20
          ],
          "text": "keys (free, gate )"
        }
      },
      {
        "box": {
          "id": "obj-28",
          "maxclass": "umenu",
          "numinlets": 1,
          "numoutlets": 3,
          "patching_rect": [
            20,
            552.0,
            200,
            22
          ],
          "items": [
            "free",
            ",",
            "gate"
          ],
          "outlettype": [
            "int",
            "",
            ""
          ],
          "parameter_enable": 0
        }
      },
      {
        "box": {
          "id": "obj-29",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            552.0,
            200,
            22
          ],
          "text": "prepend /distill/keys",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-30",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            590.0,
            200,
            20
          ],
          "text": "glide (0..2000 ms)"
        }
      },
      {
        "box": {
          "id": "obj-31",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            612.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": 0.0,
          "size": 2000.0,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-32",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            612.0,
            200,
            22
          ],
          "text": "prepend /distill/glide",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-33",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            650.0,
            200,
            20
          ],
          "text": "bend_range (0..24 semitones)"
        }
      },
      {
        "box": {
          "id": "obj-34",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            672.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": 0.0,
          "size": 24.0,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-35",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            672.0,
            200,
            22
          ],
          "text": "prepend /distill/bend_range",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-36",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            710.0,
            200,
            20
          ],
          "text": "bend (-1..1 )"
        }
      },
      {
        "box": {
          "id": "obj-37",
          "maxclass": "slider",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            732.0,
            200,
            20
          ],
          "floatoutput": 1,
          "min": -1.0,
          "size": 2.0,
          "orientation": 1,
          "parameter_enable": 0,
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-38",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            732.0,
            200,
            22
          ],
          "text": "prepend /distill/bend",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-39",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            770.0,
            200,
            20
          ],
          "text": "sustain (0..1 )"
        }
      },
      {
        "box": {
          "id": "obj-40",
          "maxclass": "toggle",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            792.0,
            24,
            24
          ],
          "outlettype": [
            "int"
          ],
          "parameter_enable": 0
        }
      },
      {
        "box": {
          "id": "obj-41",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            260,
            792.0,
            200,
            22
          ],
          "text": "prepend /distill/sustain",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-42",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            830.0,
            400,
            20
          ],
          "text": "keyboard (click to hold, again to release)"
        }
      },
      {
        "box": {
          "id": "obj-43",
          "maxclass": "kslider",
          "numinlets": 2,
          "numoutlets": 2,
          "patching_rect": [
            20,
            852.0,
            336,
            53
          ],
          "mode": 1,
          "offset": 48,
          "range": 37,
          "outlettype": [
            "int",
            "int"
          ],
          "parameter_enable": 0
        }
      },
      {
        "box": {
          "id": "obj-44",
          "maxclass": "newobj",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            20,
            915.0,
            70,
            22
          ],
          "text": "pack 0 0",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-45",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            945.0,
            160,
            22
          ],
          "text": "prepend /distill/note",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-46",
          "maxclass": "button",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            380,
            852.0,
            24,
            24
          ],
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-47",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            408,
            852.0,
            120,
            20
          ],
          "text": "all notes off"
        }
      },
      {
        "box": {
          "id": "obj-48",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            380,
            882.0,
            140,
            22
          ],
          "text": "/distill/notes_off",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-49",
          "maxclass": "button",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            980.0,
            24,
            24
          ],
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-50",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            48,
            980.0,
            100,
            20
          ],
          "text": "record start"
        }
      },
      {
        "box": {
          "id": "obj-51",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            20,
            1010.0,
            130,
            22
          ],
          "text": "/distill/record/start",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-52",
          "maxclass": "button",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            160,
            980.0,
            24,
            24
          ],
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-53",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            188,
            980.0,
            100,
            20
          ],
          "text": "record stop"
        }
      },
      {
        "box": {
          "id": "obj-54",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            160,
            1010.0,
            130,
            22
          ],
          "text": "/distill/record/stop",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-55",
          "maxclass": "button",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            300,
            980.0,
            24,
            24
          ],
          "outlettype": [
            "bang"
          ]
        }
      },
      {
        "box": {
          "id": "obj-56",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            328,
            980.0,
            100,
            20
          ],
          "text": "status"
        }
      },
      {
        "box": {
          "id": "obj-57",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            300,
            1010.0,
            130,
            22
          ],
          "text": "/distill/status",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-58",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            1110.0,
            140,
            22
          ],
          "text": "udpreceive 9001",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-59",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 4,
          "patching_rect": [
            20,
            1140.0,
            460,
            22
          ],
          "text": "route /distill/status.reply /distill/done /distill/fail",
          "outlettype": [
            "",
            "",
            "",
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-60",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            20,
            1170.0,
            90,
            22
          ],
          "text": "prepend set",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-61",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            20,
            1200.0,
            190,
            22
          ],
          "text": "status",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-62",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            220,
            1170.0,
            90,
            22
          ],
          "text": "prepend set",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-63",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            220,
            1200.0,
            190,
            22
          ],
          "text": "done",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-64",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 1,
          "patching_rect": [
            420,
            1170.0,
            90,
            22
          ],
          "text": "prepend set",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-65",
          "maxclass": "message",
          "numinlets": 2,
          "numoutlets": 1,
          "patching_rect": [
            420,
            1200.0,
            190,
            22
          ],
          "text": "fail",
          "outlettype": [
            ""
          ]
        }
      },
      {
        "box": {
          "id": "obj-66",
          "maxclass": "newobj",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            20,
            1230.0,
            100,
            22
          ],
          "text": "print distill"
        }
      },
      {
        "box": {
          "id": "obj-67",
          "maxclass": "comment",
          "numinlets": 1,
          "numoutlets": 0,
          "patching_rect": [
            500,
            1140.0,
            240,
            20
          ],
          "text": "parameters: temperature top_k top_p seed gain width transpose scale keys glide bend_range bend sustain"
        }
      }
    ],
    "lines": [
      {
        "patchline": {
          "source": [
            "obj-4",
            0
          ],
          "destination": [
            "obj-5",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-5",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-7",
            0
          ],
          "destination": [
            "obj-8",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-8",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-10",
            0
          ],
          "destination": [
            "obj-11",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-11",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-13",
            0
          ],
          "destination": [
            "obj-14",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-14",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-16",
            0
          ],
          "destination": [
            "obj-17",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-17",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-19",
            0
          ],
          "destination": [
            "obj-20",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-20",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-22",
            0
          ],
          "destination": [
            "obj-23",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-23",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-25",
            0
          ],
          "destination": [
            "obj-26",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-26",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-28",
            0
          ],
          "destination": [
            "obj-29",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-29",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-31",
            0
          ],
          "destination": [
            "obj-32",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-32",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-34",
            0
          ],
          "destination": [
            "obj-35",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-35",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-37",
            0
          ],
          "destination": [
            "obj-38",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-38",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-40",
            0
          ],
          "destination": [
            "obj-41",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-41",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-43",
            0
          ],
          "destination": [
            "obj-44",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-43",
            1
          ],
          "destination": [
            "obj-44",
            1
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-44",
            0
          ],
          "destination": [
            "obj-45",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-45",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-46",
            0
          ],
          "destination": [
            "obj-48",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-48",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-49",
            0
          ],
          "destination": [
            "obj-51",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-51",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-52",
            0
          ],
          "destination": [
            "obj-54",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-54",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-55",
            0
          ],
          "destination": [
            "obj-57",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-57",
            0
          ],
          "destination": [
            "obj-2",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-58",
            0
          ],
          "destination": [
            "obj-59",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-59",
            0
          ],
          "destination": [
            "obj-60",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-60",
            0
          ],
          "destination": [
            "obj-61",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-59",
            1
          ],
          "destination": [
            "obj-62",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-62",
            0
          ],
          "destination": [
            "obj-63",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-59",
            2
          ],
          "destination": [
            "obj-64",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-64",
            0
          ],
          "destination": [
            "obj-65",
            0
          ]
        }
      },
      {
        "patchline": {
          "source": [
            "obj-59",
            3
          ],
          "destination": [
            "obj-66",
            0
          ]
        }
      }
    ],
    "dependency_cache": [],
    "autosave": 0
  }
}

// Marks a function as one of libcudart.so.13's exports. The version script
// (generated from client/api/exports.tsv) decides what is finally exported;
// this only keeps -fvisibility=hidden from hiding it first.
#pragma once

#define RCUDA_EXPORT __attribute__((visibility("default")))

# Embeds a file in the binary as a C array (the dashboard's page):
#   cmake -DIN=file -DOUT=file.c -DNAME=symbol -P scripts/embed.cmake
# writes `const unsigned char NAME[]` (the bytes, then a NUL) and
# `const size_t NAME_len` (the bytes without the NUL). Run at build time by
# CMakeLists.txt, so an edit of IN rebuilds the binary.
if(NOT DEFINED IN OR NOT DEFINED OUT OR NOT DEFINED NAME)
    message(FATAL_ERROR "usage: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake")
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes a line.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
    "/* Generated from ${IN} by scripts/embed.cmake: do not edit. */\n"
    "#include <stddef.h>\n"
    "extern const unsigned char ${NAME}[];\n"
    "extern const size_t ${NAME}_len;\n"
    "const unsigned char ${NAME}[] = {\n${bytes}0x00};\n"
    "const size_t ${NAME}_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")

// coda: the CoDA Host command line. The subcommands live in core/app/*_command.cpp.
#include <iostream>

#include "coda/version.hpp"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::cout << coda::kProductName << " " << coda::kVersion << "\n";
  return 0;
}

#define BOOST_TEST_MODULE secrun_unit
#include <boost/test/unit_test.hpp>

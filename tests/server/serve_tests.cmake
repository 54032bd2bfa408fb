# tandem serve with real clients (included from tests/CMakeLists.txt):
# curl (serve_curl_test.sh), the official openai npm client and a load test
# (npm/, installed by Serve.NpmInstall from the committed lockfile). Each is
# skipped (exit 77) when its tools (curl + jq, node + npm) are absent.
set(serve_dir ${CMAKE_CURRENT_SOURCE_DIR}/server)
add_test(NAME Serve.Curl COMMAND ${serve_dir}/serve_curl_test.sh $<TARGET_FILE:tandem_cli> ${PROJECT_SOURCE_DIR})
add_test(NAME Serve.NpmInstall COMMAND ${serve_dir}/run_npm_test.sh $<TARGET_FILE:tandem_cli> ${PROJECT_SOURCE_DIR}
         ${CMAKE_CURRENT_BINARY_DIR} install)
add_test(NAME Serve.OpenAINpmClient COMMAND ${serve_dir}/run_npm_test.sh $<TARGET_FILE:tandem_cli> ${PROJECT_SOURCE_DIR}
         ${CMAKE_CURRENT_BINARY_DIR} openai_client.test.mjs)
add_test(NAME Serve.Load COMMAND ${serve_dir}/run_npm_test.sh $<TARGET_FILE:tandem_cli> ${PROJECT_SOURCE_DIR}
         ${CMAKE_CURRENT_BINARY_DIR} load.test.mjs)
set_tests_properties(Serve.Curl Serve.NpmInstall Serve.OpenAINpmClient Serve.Load PROPERTIES SKIP_RETURN_CODE 77)
set_tests_properties(Serve.Curl PROPERTIES TIMEOUT 120)
set_tests_properties(Serve.NpmInstall PROPERTIES TIMEOUT 300 FIXTURES_SETUP serve_npm)
set_tests_properties(Serve.OpenAINpmClient Serve.Load PROPERTIES TIMEOUT 180 FIXTURES_REQUIRED serve_npm)
# The tools tests serve the shared folder's llama-2-tiny-random.gguf (a 4096-token context).
set_tests_properties(Serve.Curl Serve.OpenAINpmClient PROPERTIES ENVIRONMENT "TANDEM_SHARED_DIR=${TANDEM_SHARED_DIR}")
